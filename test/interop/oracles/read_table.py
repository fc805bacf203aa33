"""Oracle reader: prints a Delta table's rows as canonical JSON (see normalize.py).

    read_table.py <table_path> [--version n | --all-versions] [--engine deltalake|duckdb] [--where PRED ...]

--engine deltalake reads through delta-rs (`DeltaTable(path, version=n).to_pyarrow_table()`);
--engine duckdb reads through Python DuckDB with the delta extension shipped by the
duckdb-extension-delta package (`delta_scan(path, version => n)`).
Prints {version, columns, rows}, or {versions: [...]} for --all-versions.
With --where (repeatable, one SQL predicate each), reads the version once per predicate with the
predicate pushed into the reader, so file skipping runs on the table's statistics and partition
values: delta-rs through its DataFusion QueryBuilder, DuckDB through `delta_scan(...) WHERE`.
Prints {version, queries: [{where, columns, rows}]}.
Exit 0 on success; on a read failure prints {error} to stdout and exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any, Callable

import pyarrow as pa

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from normalize import dumps, table_json


Reader = Callable[[int | None, str | None], Any]


def deltalake_reader(path: str) -> tuple[Reader, int]:
    from deltalake import DeltaTable, QueryBuilder

    latest = DeltaTable(path).version()

    def read(version: int | None, where: str | None) -> Any:
        dt = DeltaTable(path) if version is None else DeltaTable(path, version=version)
        if where is None:
            return dt.version(), dt.to_pyarrow_table()
        reader = QueryBuilder().register('t', dt).execute(f'SELECT * FROM t WHERE {where}')
        return dt.version(), pa.table(reader)

    return read, latest


def delta_extension_path() -> str:
    import duckdb
    import duckdb_extension_delta

    version = duckdb.__version__ if duckdb.__version__.startswith('v') else f'v{duckdb.__version__}'
    path = os.path.join(os.path.dirname(duckdb_extension_delta.__file__), 'extensions', version, 'delta.duckdb_extension')
    if not os.path.exists(path):
        raise RuntimeError(f'the duckdb-extension-delta package has no binary for DuckDB {version}: {path}')
    return path


def duckdb_reader(path: str) -> tuple[Reader, int]:
    import duckdb
    from deltalake import DeltaTable

    con = duckdb.connect(config={'autoinstall_known_extensions': 'false'})
    con.execute(f"LOAD '{delta_extension_path()}'")
    quoted = path.replace("'", "''")
    latest = DeltaTable(path).version()

    def read(version: int | None, where: str | None) -> Any:
        at = '' if version is None else f', version => {int(version)}'
        filter_sql = '' if where is None else f' WHERE {where}'
        table = con.execute(f"SELECT * FROM delta_scan('{quoted}'{at}){filter_sql}").to_arrow_table()
        return (latest if version is None else version), table

    return read, latest


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('table_path')
    group = parser.add_mutually_exclusive_group()
    group.add_argument('--version', type=int)
    group.add_argument('--all-versions', action='store_true')
    parser.add_argument('--engine', choices=['deltalake', 'duckdb'], default='deltalake')
    parser.add_argument('--where', action='append', help='an SQL predicate pushed into the reader (repeatable)')
    args = parser.parse_args()
    if args.where and args.all_versions:
        parser.error('--where reads one version: drop --all-versions')

    try:
        read, latest = (deltalake_reader if args.engine == 'deltalake' else duckdb_reader)(args.table_path)
        if args.where:
            queries = []
            got = latest
            for where in args.where:
                got, table = read(args.version, where)
                queries.append({'where': where, **table_json(table)})
            print(dumps({'engine': args.engine, 'version': got, 'queries': queries}))
            return 0
        versions = list(range(latest + 1)) if args.all_versions else [args.version]
        answers = []
        for version in versions:
            got, table = read(version, None)
            answers.append({'version': got, **table_json(table)})
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
