#!/usr/bin/env bash
# Installs the interop oracles (delta-rs and DuckDB's delta extension for Python, pinned in
# test/interop/requirements.txt) into .venv. Idempotent: a venv that already satisfies the pins
# is left alone without asking the package index.
set -euo pipefail
cd "$(dirname "$0")/.."

requirements=test/interop/requirements.txt
python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "setup-oracles: creating .venv with $($python --version 2>&1)"
  "$python" -m venv .venv
fi

# Already satisfied? Compare `pip freeze` against every pinned name==version line.
satisfied=1
frozen=$(.venv/bin/python -m pip freeze --disable-pip-version-check 2>/dev/null | tr '[:upper:]_' '[:lower:]-')
while IFS= read -r line; do
  pin=$(printf '%s' "${line%%#*}" | tr -d '[:space:]' | tr '[:upper:]_' '[:lower:]-')
  [ -z "$pin" ] && continue
  if ! printf '%s\n' "$frozen" | grep -qxF "$pin"; then
    satisfied=0
    break
  fi
done < "$requirements"

if [ "$satisfied" = 1 ]; then
  echo "setup-oracles: .venv already has $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned oracle packages"
else
  echo "setup-oracles: installing $requirements into .venv"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
fi

.venv/bin/python -c 'import deltalake, duckdb, duckdb_extension_delta, pyarrow; print("setup-oracles: deltalake", deltalake.__version__, "| duckdb", duckdb.__version__, "| pyarrow", pyarrow.__version__)'
