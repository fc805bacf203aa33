"""Oracle reader: prints a Delta table's rows as canonical JSON (see normalize.py).

    read_table.py <table_path> [<table_path> ...] [--version n | --all-versions] [--engine deltalake|duckdb] [--where PRED ...]
                  [--storage-options JSON] [--profile]

--engine deltalake reads through delta-rs (`DeltaTable(path, version=n).to_pyarrow_table()`);
--engine duckdb reads through Python DuckDB with the delta extension shipped by the
duckdb-extension-delta package (`delta_scan(path, version => n)`).
Prints {version, columns, rows}, or {versions: [...]} for --all-versions; with several table paths
(--all-versions only: one process for many tables), {tables: [{path, versions: [...]}, ...]}.
With --where (repeatable, one SQL predicate each), reads the version once per predicate with the
predicate pushed into the reader, so file skipping runs on the table's statistics and partition
values: delta-rs through its DataFusion QueryBuilder, DuckDB through `delta_scan(...) WHERE`.
Prints {version, queries: [{where, columns, rows}]}.
--profile answers each version's row count and per-column profile (counts and sums, the judgement
the Spark suite applies: spark_server.profile_column, the column kind taken from its Arrow type)
instead of its rows: {version, count, profile: {column: [str, ...]}}; for wide, long tables.
--storage-options takes delta-rs's object-store options as a JSON object, for a table on an
S3-compatible server (s3://bucket/prefix): AWS_ENDPOINT_URL, AWS_REGION, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_ALLOW_HTTP. delta-rs gets them as they are; DuckDB gets the same server
as an S3 secret (httpfs from the duckdb-extension-httpfs package, path-style URLs).
Exit 0 on success; on a read failure prints {error} to stdout and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Callable

import pyarrow as pa

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from normalize import dumps, table_json
from spark_server import profile_column


Reader = Callable[[int | None, str | None], Any]


StorageOptions = dict[str, str] | None


def deltalake_reader(path: str, options: StorageOptions) -> tuple[Reader, int]:
    from deltalake import DeltaTable, QueryBuilder

    latest = DeltaTable(path, storage_options=options).version()

    def read(version: int | None, where: str | None) -> Any:
        dt = DeltaTable(path, version=version, storage_options=options)
        if where is None:
            return dt.version(), dt.to_pyarrow_table()
        reader = QueryBuilder().register('t', dt).execute(f'SELECT * FROM t WHERE {where}')
        return dt.version(), pa.table(reader)

    return read, latest


def extension_path(name: str) -> str:
    """The binary of DuckDB extension `name` that its PyPI package (duckdb-extension-<name>) ships."""
    import importlib

    import duckdb

    package = importlib.import_module(f'duckdb_extension_{name}')
    version = duckdb.__version__ if duckdb.__version__.startswith('v') else f'v{duckdb.__version__}'
    path = os.path.join(os.path.dirname(package.__file__), 'extensions', version, f'{name}.duckdb_extension')
    if not os.path.exists(path):
        raise RuntimeError(f'the duckdb-extension-{name} package has no binary for DuckDB {version}: {path}')
    return path


def delta_extension_path() -> str:
    return extension_path('delta')


def sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_secret_sql(options: dict[str, str]) -> str:
    """A DuckDB S3 secret for the server delta-rs's storage options name."""
    endpoint = options.get('AWS_ENDPOINT_URL', '')
    scheme, _, host = endpoint.partition('://')
    parts = [
        'TYPE s3',
        f"KEY_ID {sql_text(options.get('AWS_ACCESS_KEY_ID', ''))}",
        f"SECRET {sql_text(options.get('AWS_SECRET_ACCESS_KEY', ''))}",
        f"REGION {sql_text(options.get('AWS_REGION', 'us-east-1'))}",
    ]
    if host:
        parts += [f'ENDPOINT {sql_text(host.rstrip("/"))}', "URL_STYLE 'path'", f"USE_SSL {'true' if scheme == 'https' else 'false'}"]
    return f"CREATE SECRET oracle_s3 ({', '.join(parts)})"


def duckdb_reader(path: str, options: StorageOptions) -> tuple[Reader, int]:
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect(config={'autoinstall_known_extensions': 'false'})
    if options is not None:
        con.execute(f"LOAD '{extension_path('httpfs')}'")
        con.execute(s3_secret_sql(options))
    con.execute(f"LOAD '{delta_extension_path()}'")
    quoted = path.replace("'", "''")
    latest = DeltaTable(path, storage_options=options).version()

    def read(version: int | None, where: str | None) -> Any:
        at = '' if version is None else f', version => {int(version)}'
        filter_sql = '' if where is None else f' WHERE {where}'
        table = con.execute(f"SELECT * FROM delta_scan('{quoted}'{at}){filter_sql}").to_arrow_table()
        return (latest if version is None else version), table

    return read, latest


def arrow_kind(t: Any) -> str:
    """The profile kind (spark_server.PROFILES, spark.ts ProfileKind) of an Arrow column type."""
    import pyarrow.types as pt

    if pt.is_map(t):
        return 'map'
    if pt.is_list(t) or pt.is_large_list(t) or pt.is_fixed_size_list(t):
        return 'array'
    if pt.is_struct(t):
        return 'struct'
    if pt.is_timestamp(t):
        return 'timestamp' if t.tz else 'timestamp_ntz'
    for kind, test in (
        ('integer', pt.is_integer),
        ('decimal', pt.is_decimal),
        ('float', pt.is_floating),
        ('boolean', pt.is_boolean),
        ('string', lambda x: pt.is_string(x) or pt.is_large_string(x) or pt.is_string_view(x)),
        ('binary', lambda x: pt.is_binary(x) or pt.is_large_binary(x) or pt.is_binary_view(x)),
        ('date', pt.is_date),
    ):
        if test(t):
            return kind
    raise ValueError(f'no profile for Arrow type {t}')


def table_profile(table: Any) -> dict[str, Any]:
    columns = {f.name: profile_column(table.column(f.name).combine_chunks(), arrow_kind(f.type)) for f in table.schema}
    return {'count': str(table.num_rows), 'profile': columns}


def read_versions(read: Reader, versions: list[int | None], profile: bool) -> list[dict[str, Any]]:
    answers = []
    for version in versions:
        got, table = read(version, None)
        answers.append({'version': got, **(table_profile(table) if profile else table_json(table))})
    return answers


def read_all(read: Reader, latest: int, profile: bool) -> list[dict[str, Any]]:
    return read_versions(read, list(range(latest + 1)), profile)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('table_path', nargs='+')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--version', type=int)
    group.add_argument('--all-versions', action='store_true')
    parser.add_argument('--engine', choices=['deltalake', 'duckdb'], default='deltalake')
    parser.add_argument('--where', action='append', help='an SQL predicate pushed into the reader (repeatable)')
    parser.add_argument('--profile', action='store_true', help='answer row counts and per-column profiles instead of rows')
    parser.add_argument('--storage-options', type=json.loads, help="delta-rs's object-store options as a JSON object (S3 tables)")
    args = parser.parse_args()
    if args.where and args.all_versions:
        parser.error('--where reads one version: drop --all-versions')
    if len(args.table_path) > 1 and not args.all_versions:
        parser.error('several tables are read with --all-versions only')

    reader = deltalake_reader if args.engine == 'deltalake' else duckdb_reader
    try:
        if len(args.table_path) > 1:
            tables = [{'path': path, 'versions': read_all(*reader(path, args.storage_options), args.profile)} for path in args.table_path]
            print(dumps({'engine': args.engine, 'tables': tables}))
            return 0
        read, latest = reader(args.table_path[0], args.storage_options)
        if args.where:
            queries = []
            got = latest
            for where in args.where:
                got, table = read(args.version, where)
                queries.append({'where': where, **table_json(table)})
            print(dumps({'engine': args.engine, 'version': got, 'queries': queries}))
            return 0
        answers = read_all(read, latest, args.profile) if args.all_versions else read_versions(read, [args.version], args.profile)
    except Exception as error:  # the oracle's verdict is the error text itself
        print(dumps({'error': f'{type(error).__name__}: {error}', 'engine': args.engine}))
        return 1
    print(dumps({'engine': args.engine, 'versions': answers} if args.all_versions else {'engine': args.engine, **answers[0]}))
    return 0


if __name__ == '__main__':
    code = main()
    sys.stdout.flush()
    # Skip interpreter teardown: delta-rs runtime threads can abort() at exit after the answer is out.
    os._exit(code)
