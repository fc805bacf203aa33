"""Spark oracle: one Spark session (pyspark + delta-spark, local[2]) serving JSON requests.

    spark_server.py            # reads one JSON request per line on stdin, answers one JSON line each
    spark_server.py --fetch-jars   # only resolves and downloads the jars (scripts/setup-oracles.sh)

Started once per test run by test/interop/spark.ts, so the whole Spark suite pays for one JVM.
Requests ({"op": ...}):
  {"op": "sql", "statements": [...]}         runs Spark SQL; answers {rows} of the last statement
  {"op": "s3", "bucket": b, "endpoint": url, "region": r, "accessKey": k, "secretKey": s}
                                             points s3a://b/... at an S3-compatible server (per-bucket
                                             fs.s3a.bucket.b.* settings; before the first use of b)
  {"op": "read", "path": p, "version": n}    {version, columns, rows} in canonical form (normalize.py)
  {"op": "versions", "path": p}              {versions: [n, ...]} the commit versions DESCRIBE HISTORY lists
  {"op": "history", "path": p}               {history: [{version, timestamp (ms), operation, operationMetrics}]}
  {"op": "profile", "path": p, "version": n, "columns": [{name, kind}]}
                                             {version, count, profile: {column: [str, ...]}}: Spark reads
                                             the version, the counts and sums are taken over its rows
                                             (profile_column)
Any failure answers {error}. The Spark session runs in America/New_York (spark.sql.session.timeZone
and the JVM's user.timezone), so a timestamp read without its zone shows up hours off.

Spark's jars (io.delta:delta-spark_2.13, and for s3a:// paths hadoop-aws matching pyspark's Hadoop
with the few AWS SDK v2 modules it needs instead of the 558 MB SDK bundle) come from Maven Central
through Ivy (`--fetch-jars`, run by scripts/setup-oracles.sh, or the first start) and are kept in
$SPARK_IVY_DIR (default .venv/spark-ivy), so later runs download nothing.
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

# hadoop-aws must be the Hadoop version pyspark ships (pyspark/jars/hadoop-client-api-<v>.jar).
HADOOP_VERSION = '3.4.1'
# hadoop-aws 3.4.1 is built against the AWS SDK v2 `bundle` (558 MB); it only needs the S3 client
# and the transfer manager. 2.29.52 is the SDK of Hadoop 3.4.2 (Maven Central here has no
# s3-transfer-manager 2.24.6, the version Hadoop 3.4.1 names).
AWS_SDK_VERSION = '2.29.52'
S3_PACKAGES = [
    f'org.apache.hadoop:hadoop-aws:{HADOOP_VERSION}',
    f'software.amazon.awssdk:s3:{AWS_SDK_VERSION}',
    f'software.amazon.awssdk:s3-transfer-manager:{AWS_SDK_VERSION}',
]
# What the S3 packages would pull in that pyspark's own jars already hold (netty, Apache HTTP
# client, commons, slf4j) or that s3a does not need (the SDK bundle, wildfly-openssl).
S3_EXCLUDES = [
    'software.amazon.awssdk:bundle',
    'org.wildfly.openssl:wildfly-openssl',
    'commons-codec:commons-codec',
    'commons-logging:commons-logging',
    'org.slf4j:slf4j-api',
    'org.apache.httpcomponents:httpclient',
    'org.apache.httpcomponents:httpcore',
    *(
        f'io.netty:netty-{m}'
        for m in ('buffer', 'codec', 'codec-http', 'codec-http2', 'common', 'handler', 'resolver', 'transport', 'transport-classes-epoll', 'transport-native-unix-common')
    ),
]
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


def ivy_dir() -> str:
    return os.environ.get('SPARK_IVY_DIR') or os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '.venv', 'spark-ivy'))


def check_hadoop_version() -> None:
    import pyspark

    jars = os.listdir(os.path.join(os.path.dirname(pyspark.__file__), 'jars'))
    if f'hadoop-client-api-{HADOOP_VERSION}.jar' not in jars:
        shipped = [j for j in jars if j.startswith('hadoop-client-api-')]
        raise RuntimeError(f'pyspark ships {shipped}, but spark_server.py pins hadoop-aws {HADOOP_VERSION}: set HADOOP_VERSION to the Hadoop of pyspark')


def session_config() -> list[tuple[str, str]]:
    """Everything the JVM needs at start: one session for the whole suite, local and s3a:// tables."""
    ivy = ivy_dir()
    warehouse = os.environ.get('SPARK_WAREHOUSE_DIR') or os.path.join(ivy, '..', 'spark-warehouse')
    zone = f'-Duser.timezone={TIME_ZONE}'
    return [
        ('spark.jars.packages', ','.join(['io.delta:delta-spark_2.13:' + delta_version(), *S3_PACKAGES])),
        ('spark.jars.excludes', ','.join(S3_EXCLUDES)),
        ('spark.jars.ivy', ivy),
        ('spark.sql.extensions', 'io.delta.sql.DeltaSparkSessionExtension'),
        ('spark.sql.catalog.spark_catalog', 'org.apache.spark.sql.delta.catalog.DeltaCatalog'),
        ('spark.sql.shuffle.partitions', '2'),
        ('spark.default.parallelism', '2'),
        ('spark.databricks.delta.snapshotPartitions', '2'),
        ('spark.sql.session.timeZone', TIME_ZONE),
        # Tiny data, wide tables (pbp: 339 columns): compiling whole-stage code costs more than it saves.
        ('spark.sql.codegen.wholeStage', 'false'),
        ('spark.driver.extraJavaOptions', zone),
        ('spark.executor.extraJavaOptions', zone),
        ('spark.driver.memory', os.environ.get('SPARK_DRIVER_MEMORY', '1g')),
        ('spark.sql.warehouse.dir', os.path.abspath(warehouse)),
        ('spark.ui.enabled', 'false'),
        ('spark.ui.showConsoleProgress', 'false'),
        # Tests write tables with VACUUM/retention choices of their own.
        ('spark.databricks.delta.retentionDurationCheck.enabled', 'false'),
        # s3a:// tables: Delta's log store for S3 is safe for one writing Spark driver at a time
        # (it is Delta's default for s3a; named here so the configuration is explicit).
        ('spark.delta.logStore.s3a.impl', 'io.delta.storage.S3SingleDriverLogStore'),
        # S3-compatible servers on 127.0.0.1 answer path-style requests (bucket in the path).
        ('spark.hadoop.fs.s3a.path.style.access', 'true'),
    ]


def session() -> Any:
    from pyspark.sql import SparkSession

    check_hadoop_version()
    builder = SparkSession.builder.master('local[2]').appName('nfl-lakehouse-interop')
    for key, value in session_config():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel('ERROR')
    return spark


def fetch_jars() -> dict[str, Any]:
    """Resolves and downloads the session's jars into the Ivy folder without starting a session;
    nothing to do when `fetched.json` there names the same packages and their jars are all there."""
    from pyspark import SparkConf
    from pyspark.java_gateway import launch_gateway

    check_hadoop_version()
    config = dict(session_config())
    wanted = {'packages': config['spark.jars.packages'], 'excludes': config['spark.jars.excludes']}
    jars = os.path.join(ivy_dir(), 'jars')
    stamp = os.path.join(ivy_dir(), 'fetched.json')

    def answer(cached: bool, names: list[str]) -> dict[str, Any]:
        return {'jars': len(names), 'bytes': sum(os.path.getsize(os.path.join(jars, n)) for n in names), 'cached': cached}

    try:
        with open(stamp, encoding='utf-8') as f:
            done = json.load(f)
        if {k: done.get(k) for k in wanted} == wanted and all(os.path.exists(os.path.join(jars, n)) for n in done['jars']):
            return answer(True, done['jars'])
    except (OSError, ValueError, KeyError):
        pass
    conf = SparkConf()
    for key, value in config.items():
        conf.set(key, value)
    gateway = launch_gateway(conf)  # spark-submit resolves spark.jars.packages before the gateway starts
    gateway.shutdown()
    proc = getattr(gateway, 'proc', None)
    if proc is not None:
        proc.stdin.close()
        proc.wait(timeout=60)
    names = sorted(os.listdir(jars))
    with open(stamp, 'w', encoding='utf-8') as f:
        json.dump({**wanted, 'jars': names}, f, indent=1)
    return answer(False, names)


def configure_s3(spark: Any, request: dict[str, Any]) -> dict[str, Any]:
    """Per-bucket s3a settings for an S3-compatible server; they apply from the bucket's first use on
    (Hadoop caches one file system per bucket for the JVM's life)."""
    bucket = request['bucket']
    endpoint = request['endpoint']
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    settings = {
        'endpoint': endpoint,
        'endpoint.region': request.get('region', 'us-east-1'),
        'connection.ssl.enabled': 'true' if endpoint.startswith('https://') else 'false',
        'path.style.access': 'true',
        'access.key': request['accessKey'],
        'secret.key': request['secretKey'],
        'aws.credentials.provider': 'org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider',
    }
    for key, value in settings.items():
        conf.set(f'fs.s3a.bucket.{bucket}.{key}', value)
    return {'bucket': bucket, 'settings': sorted(settings)}


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
    if op == 's3':
        return configure_s3(spark, request)
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
    if sys.argv[1:] == ['--fetch-jars']:
        print(dumps(fetch_jars()))
        return 0
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
