#!/usr/bin/env bash
# Installs the interop oracles into .venv: delta-rs and DuckDB's delta extension for Python, moto's
# S3 server, boto3 and DuckDB's httpfs (pinned in test/interop/requirements.txt), then Spark
# (pyspark + delta-spark, pinned in test/interop/requirements-spark.txt; ~470 MB, its own step;
# skip it with ORACLES_SPARK=0) and Spark's jars from Maven Central: delta-spark, and for s3a://
# hadoop-aws with the AWS SDK v2 modules it needs (~17 MB in all, pinned in
# test/interop/oracles/spark_server.py, kept in .venv/spark-ivy).
# Idempotent: a venv that already satisfies the pins is left alone without asking the package
# index, and jars already fetched for the same pins are not resolved again. Spark also needs
# Java 17+ on PATH.
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
    # `pip freeze` names a package without its extras: moto[server]==5.2.5 is frozen as moto==5.2.5.
    pin=$(printf '%s' "${line%%#*}" | tr -d '[:space:]' | tr '[:upper:]_' '[:lower:]-' | sed 's/\[[^]]*\]//')
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
.venv/bin/python -c 'import deltalake, duckdb, duckdb_extension_delta, duckdb_extension_httpfs, pyarrow, boto3, moto; print("setup-oracles: deltalake", deltalake.__version__, "| duckdb", duckdb.__version__, "| pyarrow", pyarrow.__version__, "| boto3", boto3.__version__, "| moto", moto.__version__)'

if [ "${ORACLES_SPARK:-1}" != 0 ]; then
  install_pins test/interop/requirements-spark.txt Spark
  .venv/bin/python -c 'import pyspark; from importlib.metadata import version; print("setup-oracles: pyspark", pyspark.__version__, "| delta-spark", version("delta-spark"))'
  if command -v java > /dev/null; then
    echo "setup-oracles: $(java -version 2>&1 | head -n 1)"
    # Spark's jars through Spark's own Ivy, exactly as the Spark suite's session resolves them.
    started=$(date +%s)
    fetched=$(.venv/bin/python test/interop/oracles/spark_server.py --fetch-jars 2> .venv/spark-fetch.log) || {
      cat .venv/spark-fetch.log >&2
      echo "setup-oracles: fetching Spark's jars failed: $fetched" >&2
      exit 1
    }
    echo "setup-oracles: Spark jars $fetched in $(($(date +%s) - started)) s"
  else
    echo "setup-oracles: java is not on PATH: the Spark suite needs Java 17+ (apt-get install -y openjdk-17-jre-headless)" >&2
  fi
fi
