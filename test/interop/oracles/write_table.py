"""Oracle writer: delta-rs (deltalake.write_deltalake) creates a table that our reader must read.

    write_table.py <table_path> --scenario types|partitioned-string|partitioned-int

Each scenario is a fixed sequence of delta-rs operations (create, append, overwrite, overwrite
with a predicate, delete, optimize) with a checkpoint (DeltaTable.create_checkpoint) part-way,
so later versions are read from checkpoint + tail. Prints
{path, scenario, partitionBy, checkpoint, commits: [{version, operation, rows}]}
where `rows` is the number of rows the operation wrote.
"""

from __future__ import annotations

import argparse
import os
import datetime as dt
import decimal
import sys
from typing import Any

import pyarrow as pa
from deltalake import DeltaTable, write_deltalake

sys.dont_write_bytecode = True  # keep __pycache__ out of the source tree
from normalize import dumps

UTC = dt.timezone.utc

SCHEMA = pa.schema([
    ('id', pa.int64()),
    ('p', pa.string()),
    ('n', pa.int32()),
    ('s', pa.string()),
    ('i16', pa.int16()),
    ('i8', pa.int8()),
    ('f64', pa.float64()),
    ('f32', pa.float32()),
    ('flag', pa.bool_()),
    ('day', pa.date32()),
    ('ts', pa.timestamp('us', tz='UTC')),
    ('amount', pa.decimal128(10, 2)),
    ('raw', pa.binary()),
    ('tags', pa.list_(pa.int32())),
    ('info', pa.struct([('a', pa.int32()), ('b', pa.string())])),
])

# Partition values that need escaping in folder names and add.path.
STRING_PARTITIONS: list[str | None] = [None, ' ', 'a b', '=', '%', '/', '+', 'São Paulo', '🏈', 'plain']
INT_PARTITIONS: list[int | None] = [None, -1, 0, 7, 2024]


def make_rows(start: int, count: int, string_parts: list[str | None], int_parts: list[int | None]) -> pa.Table:
    rows: list[dict[str, Any]] = []
    for k in range(count):
        i = start + k
        rows.append({
            'id': i,
            'p': string_parts[k % len(string_parts)],
            'n': int_parts[k % len(int_parts)],
            's': None if i % 7 == 3 else f'row {i} ünïcödé',
            'i16': (i * 37) % 30000 - 15000,
            'i8': i % 256 - 128,
            'f64': float('nan') if i % 11 == 5 else (float('inf') if i % 13 == 6 else i / 3),
            'f32': None if i % 5 == 2 else i * 0.25,
            'flag': None if i % 4 == 3 else i % 2 == 0,
            'day': dt.date(1999, 12, 31) + dt.timedelta(days=i * 41),
            'ts': dt.datetime(2020, 2, 29, 23, 59, 59, 123456, tzinfo=UTC) + dt.timedelta(seconds=i * 86399, microseconds=i),
            'amount': decimal.Decimal(i * 1234 - 5000).scaleb(-2),
            'raw': None if i % 6 == 1 else bytes([i % 256, 0, 255, (i * 7) % 256]),
            'tags': None if i % 9 == 4 else [j for j in range(i % 4)] + ([None] if i % 3 == 0 else []),
            'info': None if i % 10 == 9 else {'a': None if i % 2 else i, 'b': f'b{i}'},
        })
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def run(path: str, scenario: str) -> dict[str, Any]:
    commits: list[dict[str, Any]] = []
    partition_by: list[str] = {'types': [], 'partitioned-string': ['p'], 'partitioned-int': ['n']}[scenario]
    sp = STRING_PARTITIONS if scenario != 'types' else ['x', None]
    ip = INT_PARTITIONS

    def write(data: pa.Table, mode: str, predicate: str | None = None) -> None:
        write_deltalake(path, data, mode=mode, partition_by=partition_by or None, predicate=predicate,
                        configuration={'delta.checkpointInterval': '1000'} if mode == 'error' else None)
        version = DeltaTable(path).version()
        commits.append({'version': version, 'operation': f'write {mode}' + (f' where {predicate}' if predicate else ''), 'rows': data.num_rows})

    write(make_rows(0, 30, sp, ip), 'error')
    write(make_rows(100, 20, sp, ip), 'append')
    write(make_rows(200, 25, sp, ip), 'overwrite')
    write(make_rows(300, 12, sp, ip), 'append')
    if scenario == 'partitioned-string':
        write(make_rows(400, 6, ['%'], ip), 'overwrite', "p = '%'")
        write(make_rows(450, 4, ['São Paulo'], ip), 'overwrite', "p = 'São Paulo'")
    elif scenario == 'partitioned-int':
        write(make_rows(400, 6, sp, [7]), 'overwrite', 'n = 7')
    else:
        write(make_rows(400, 6, ['x'], ip), 'overwrite', "p = 'x'")
    table = DeltaTable(path)
    table.delete('id % 4 = 1')
    commits.append({'version': table.version(), 'operation': 'delete where id % 4 = 1', 'rows': 0})
    table = DeltaTable(path)
    table.create_checkpoint()
    checkpoint = table.version()
    write(make_rows(500, 9, sp, ip), 'append')
    table = DeltaTable(path)
    table.optimize.compact()
    commits.append({'version': table.version(), 'operation': 'optimize compact', 'rows': 0})
    write(make_rows(600, 5, sp, ip), 'append')
    return {'path': path, 'scenario': scenario, 'partitionBy': partition_by, 'checkpoint': checkpoint, 'commits': commits}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('table_path')
    parser.add_argument('--scenario', choices=['types', 'partitioned-string', 'partitioned-int'], default='types')
    args = parser.parse_args()
    print(dumps(run(args.table_path, args.scenario)))
    return 0


if __name__ == '__main__':
    code = main()
    sys.stdout.flush()
    # Skip interpreter teardown: delta-rs runtime threads can abort() at exit after the answer is out.
    os._exit(code)
