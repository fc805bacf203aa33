"""Spark oracle: one Spark session (pyspark + delta-spark, local[2]) serving JSON requests.

    spark_server.py            # reads one JSON request per line on stdin, answers one JSON line each

Started once per test run by test/interop/spark.ts, so the whole Spark suite pays for one JVM.
Requests ({"op": ...}):
  {"op": "sql", "statements": [...]}         runs Spark SQL; answers {rows} of the last statement
  {"op": "read", "path": p, "version": n}    {version, columns, rows} in canonical form (normalize.py)
  {"op": "versions", "path": p}              {versions: [n, ...]} the commit versions DESCRIBE HISTORY lists
  {"op": "history", "path": p}               {history: [{version, timestamp (ms), operation, operationMetrics}]}
  {"op": "profile", "path": p, "version": n, "columns": [{name, kind}]}
                                             {version, count, profile: {column: [str, ...]}}: Spark reads
                                             the version, the counts and sums are taken over its rows
                                             (profile_column)
Any failure answers {error}. The Spark session runs in America/New_York (spark.sql.session.timeZone
and the JVM's user.timezone), so a timestamp read without its zone shows up hours off.

Spark's jars (io.delta:delta-spark_2.13) come from Maven Central through Ivy on the first start and
are kept in $SPARK_IVY_DIR (default .venv/spark-ivy), so later runs download nothing.
"""

from __future__ import annotations

import decimal
import json
import math
import os
import sys
import traceback
from typing import Any

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from normalize import dumps, table_json

TIME_ZONE = 'America/New_York'
decimal.getcontext().prec = 80  # exact sums of decimal(38, s) values

def _values(column: Any) -> list[Any]:
    return [v for v in column.to_pylist() if v is not None]


def _total(values: list[Any]) -> str | None:
    if not values:
        return None
    total = sum(values)
    return format(total, 'f') if isinstance(total, decimal.Decimal) else str(total)


def profile_column(column: Any, kind: str) -> list[str | None]:
    """One column's profile, the same list test/interop/spark.ts computes with DuckDB over our
    reader (DUCKDB_PROFILES): the non-null count, then sums of integers (exact), decimals (exact),
    finite floats (and the NaN count), byte lengths, days and microseconds since the epoch, list
    and map sizes; NULL where DuckDB's sum over no value is NULL."""
    import pyarrow as pa
    import pyarrow.compute as pc

    count = str(len(column) - column.null_count)
    if kind in ('integer', 'decimal'):
        return [count, _total(_values(column))]
    if kind == 'float':
        values = _values(column)
        finite = [v for v in values if math.isfinite(v)]
        return [count, str(sum(1 for v in values if math.isnan(v))), None if not values else repr(math.fsum(finite))]
    if kind == 'boolean':
        return [count, str(sum(1 for v in _values(column) if v))]
    if kind in ('string', 'binary'):
        lengths = _values(pc.binary_length(column))
        return [count, _total(lengths)]
    if kind == 'date':
        return [count, _total(_values(column.cast(pa.int32())))]
    if kind == 'timestamp':
        micros = _values(column.cast(pa.timestamp('us', tz='UTC')).cast(pa.int64()))
        return [count, _total(micros), None if not micros else str(min(micros)), None if not micros else str(max(micros))]
    if kind == 'timestamp_ntz':
        values = _values(column)
        text = [v.strftime('%Y-%m-%d %H:%M:%S.%f') for v in values]
        return [count, min(text, default=None), max(text, default=None)]
    if kind in ('array', 'map'):
        sizes = [0 if v is None else v for v in pc.list_value_length(column).to_pylist()]
        return [count, None if len(column) == 0 else str(sum(sizes))]
    if kind == 'struct':
        return [count]
    raise ValueError(f'no profile for column kind {kind!r}')


def session() -> Any:
    from pyspark.sql import SparkSession

    ivy = os.environ.get('SPARK_IVY_DIR') or os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '.venv', 'spark-ivy'))
    warehouse = os.environ.get('SPARK_WAREHOUSE_DIR') or os.path.join(ivy, '..', 'spark-warehouse')
    zone = f'-Duser.timezone={TIME_ZONE}'
    builder = (
        SparkSession.builder.master('local[2]')
        .appName('nfl-lakehouse-interop')
        .config('spark.jars.packages', 'io.delta:delta-spark_2.13:' + delta_version())
        .config('spark.jars.ivy', ivy)
        .config('spark.sql.extensions', 'io.delta.sql.DeltaSparkSessionExtension')
        .config('spark.sql.catalog.spark_catalog', 'org.apache.spark.sql.delta.catalog.DeltaCatalog')
        .config('spark.sql.shuffle.partitions', '2')
        .config('spark.default.parallelism', '2')
        .config('spark.databricks.delta.snapshotPartitions', '2')
        .config('spark.sql.session.timeZone', TIME_ZONE)
        # Tiny data, wide tables (pbp: 339 columns): compiling whole-stage code costs more than it saves.
        .config('spark.sql.codegen.wholeStage', 'false')
        .config('spark.driver.extraJavaOptions', zone)
        .config('spark.executor.extraJavaOptions', zone)
        .config('spark.driver.memory', os.environ.get('SPARK_DRIVER_MEMORY', '1g'))
        .config('spark.sql.warehouse.dir', os.path.abspath(warehouse))
        .config('spark.ui.enabled', 'false')
        .config('spark.ui.showConsoleProgress', 'false')
        # Tests write tables with VACUUM/retention choices of their own.
        .config('spark.databricks.delta.retentionDurationCheck.enabled', 'false')
    )
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel('ERROR')
    return spark


def delta_version() -> str:
    from importlib.metadata import version

    return version('delta-spark')


def quote_path(path: str) -> str:
    return 'delta.`' + path.replace('`', '``') + '`'


def quote_column(name: str) -> str:
    return '`' + name.replace('`', '``') + '`'


def read(spark: Any, path: str, version: int | None) -> Any:
    reader = spark.read.format('delta')
    if version is not None:
        reader = reader.option('versionAsOf', int(version))
    return reader.load(path)


def handle(spark: Any, request: dict[str, Any]) -> dict[str, Any]:
    op = request.get('op')
    if op == 'ping':
        return {'spark': spark.version, 'delta': delta_version(), 'timeZone': spark.conf.get('spark.sql.session.timeZone')}
    if op == 'sql':
        result = None
        for statement in request['statements']:
            result = spark.sql(statement)
        rows = [] if result is None else [[None if v is None else str(v) for v in row] for row in result.collect()]
        return {'rows': rows}
    if op == 'versions':
        history = spark.sql(f"DESCRIBE HISTORY {quote_path(request['path'])}").select('version').collect()
        return {'versions': sorted(int(r['version']) for r in history)}
    if op == 'history':
        from delta.tables import DeltaTable

        history = DeltaTable.forPath(spark, request['path']).history().selectExpr('version', 'unix_millis(timestamp) AS ms', 'operation', 'operationMetrics')
        entries = [{'version': int(r['version']), 'timestamp': int(r['ms']), 'operation': r['operation'], 'operationMetrics': dict(r['operationMetrics'] or {})} for r in history.collect()]
        return {'history': sorted(entries, key=lambda e: e['version'])}
    if op == 'read':
        df = read(spark, request['path'], request.get('version'))
        return {'version': request.get('version'), **table_json(df.toArrow())}
    if op == 'profile':
        table = read(spark, request['path'], request.get('version')).toArrow()
        profile = {c['name']: profile_column(table.column(c['name']), c['kind']) for c in request['columns']}
        return {'version': request.get('version'), 'count': str(table.num_rows), 'profile': profile}
    raise ValueError(f'unknown op {op!r}')


def main() -> int:
    # Answers go to the original stdout; anything else (the JVM, Spark's logs) to stderr.
    answers = os.fdopen(os.dup(1), 'w', encoding='utf-8')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    os.environ['TZ'] = TIME_ZONE
    try:
        spark = session()
    except Exception as error:
        answers.write(dumps({'error': f'Spark did not start: {type(error).__name__}: {error}'}) + '\n')
        answers.flush()
        return 1
    answers.write(dumps({'ready': True, 'spark': spark.version, 'delta': delta_version()}) + '\n')
    answers.flush()
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            answer = handle(spark, json.loads(line))
        except Exception as error:  # the oracle's verdict is the error text itself
            message = str(error).split('\n')[0]
            answer = {'error': f'{type(error).__name__}: {message}', 'trace': traceback.format_exc(limit=3)}
        answers.write(dumps(answer) + '\n')
        answers.flush()
    spark.stop()
    return 0


if __name__ == '__main__':
    code = main()
    os._exit(code)
