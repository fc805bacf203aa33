#!/usr/bin/env bash
# Installs the interop oracles into .venv: delta-rs and DuckDB's delta extension for Python
# (pinned in test/interop/requirements.txt), then Spark (pyspark + delta-spark, pinned in
# test/interop/requirements-spark.txt; ~470 MB, its own step; skip it with ORACLES_SPARK=0).
# Idempotent: a venv that already satisfies the pins is left alone without asking the package
# index. Spark also needs Java 17+ on PATH; delta-spark's jars are fetched from Maven Central by
# the first Spark session (test/interop/oracles/spark_server.py) into .venv/spark-ivy.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}

if [ ! -x .venv/bin/python ]; then
  echo "setup-oracles: creating .venv with $($python --version 2>&1)"
  "$python" -m venv .venv
fi

# Installs one requirements file unless `pip freeze` already has every pinned name==version line.
install_pins() {
  local requirements=$1 what=$2 satisfied=1 frozen line pin
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
    echo "setup-oracles: .venv already has $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned $what packages"
  else
    echo "setup-oracles: installing $requirements into .venv"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
  fi
}

install_pins test/interop/requirements.txt oracle
.venv/bin/python -c 'import deltalake, duckdb, duckdb_extension_delta, pyarrow; print("setup-oracles: deltalake", deltalake.__version__, "| duckdb", duckdb.__version__, "| pyarrow", pyarrow.__version__)'

if [ "${ORACLES_SPARK:-1}" != 0 ]; then
  install_pins test/interop/requirements-spark.txt Spark
  .venv/bin/python -c 'import pyspark; from importlib.metadata import version; print("setup-oracles: pyspark", pyspark.__version__, "| delta-spark", version("delta-spark"))'
  if command -v java > /dev/null; then
    echo "setup-oracles: $(java -version 2>&1 | head -n 1)"
  else
    echo "setup-oracles: java is not on PATH: the Spark suite needs Java 17+ (apt-get install -y openjdk-17-jre-headless)" >&2
  fi
fi
