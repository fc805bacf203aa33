"""Writes test/conformance/golden/<table>/v<n>.json from independent Delta readers.

Oracle: DuckDB 1.5.5 with its `delta` extension 1.5.5 (delta-kernel-rs) from PyPI, every value
rendered by DuckDB's own ::VARCHAR cast (exact for decimals and microsecond timestamps).
Cross-check: delta-rs (`deltalake`) where it can read the table; its verdict is recorded per file.
Data-less versions record the files the log references that are not on disk (listed by delta-rs).

The goldens are then checked against MANIFEST.md facts by test/conformance/manifest-facts.test.ts;
never regenerate them from this project's own reader.

Run from the repository root:  .venv/bin/python test/conformance/generate-goldens.py
"""
import datetime
import decimal
import json
import os
import sys
from importlib.metadata import version as pkg_version

import duckdb
import duckdb_extension_delta
from deltalake import DeltaTable

ROOT = os.path.join('test', 'fixtures', 'delta-conformance', 'tables')
OUT = os.path.join('test', 'conformance', 'golden')
EXT = os.path.join(os.path.dirname(duckdb_extension_delta.__file__), 'extensions', 'v' + duckdb.__version__, 'delta.duckdb_extension')
ORACLE = f"duckdb {duckdb.__version__} + delta extension {pkg_version('duckdb-extension-delta')} (delta-kernel-rs)"
CROSS = f"deltalake {pkg_version('deltalake')} (delta-rs)"


def norm(v):
    """Type-aware normal form used only to compare the two readers with each other."""
    if v is None or isinstance(v, (bool, str, int, float)):
        return v
    if isinstance(v, datetime.datetime):
        return v.astimezone(datetime.timezone.utc).isoformat() if v.tzinfo else v.isoformat()
    if isinstance(v, (datetime.date, decimal.Decimal)):
        return str(v)
    if isinstance(v, bytes):
        return v.hex()
    if isinstance(v, dict):
        return {k: norm(x) for k, x in v.items()}
    if isinstance(v, list):
        return [norm(x) for x in v]
    if isinstance(v, tuple):
        return [norm(x) for x in v]
    raise TypeError(type(v))


def key(row):
    return json.dumps(row, sort_keys=True)


def versions_of(table_root):
    names = os.listdir(os.path.join(table_root, '_delta_log'))
    return sorted({int(n[:20]) for n in names if len(n) == 25 and n.endswith('.json') and n[:20].isdigit()})


def cross_check(table_root, v, oracle_rows):
    try:
        rows = DeltaTable(table_root, version=v).to_pyarrow_table().to_pylist()
    except Exception as e:  # noqa: BLE001 - record why delta-rs cannot read it
        return f'{CROSS} cannot read it: {str(e).splitlines()[0][:160]}'
    if sorted(map(key, map(norm, rows))) == sorted(map(key, map(norm, oracle_rows))):
        return f'{CROSS} returns the same rows'
    return f'{CROSS} DISAGREES (returns {len(rows)} rows, e.g. {key(norm(rows[0]))[:160] if rows else "none"})'


def missing_files(table_root, v):
    base = os.path.abspath(table_root)
    files = [os.path.relpath(uri, base) for uri in DeltaTable(table_root, version=v).file_uris()]
    missing = sorted(f for f in files if not os.path.exists(os.path.join(base, f)))
    return len(files), missing


def write(path, golden):
    """Pretty JSON with one column and one row per line, so diffs stay readable."""
    lists = {k: golden.pop(k) for k in ('columns', 'rows') if k in golden}
    rows = lists.pop('rows', None)
    text = json.dumps({**golden, **({'columns': None} if 'columns' in lists else {}), **({'rows': None} if rows is not None else {})}, indent=2, ensure_ascii=False)
    for name, items in (('columns', lists.get('columns')), ('rows', rows)):
        if items is None:
            continue
        body = ',\n'.join('    ' + json.dumps(item, ensure_ascii=False) for item in items)
        text = text.replace(f'"{name}": null', f'"{name}": [\n{body}\n  ]' if items else f'"{name}": []')
    with open(path, 'w', encoding='utf-8') as f:
        f.write(text + '\n')


def main():
    con = duckdb.connect(config={'allow_unsigned_extensions': 'true'})
    con.execute(f"LOAD '{EXT}'")
    tables = sys.argv[1:] or sorted(os.listdir(ROOT))
    for table in tables:
        table_root = os.path.join(ROOT, table)
        os.makedirs(os.path.join(OUT, table), exist_ok=True)
        for v in versions_of(table_root):
            golden = {'table': table, 'version': v, 'oracle': ORACLE}
            try:
                con.execute(f"ATTACH '{table_root}' AS t (TYPE delta, VERSION {v})")
                try:
                    described = con.sql('DESCRIBE SELECT * FROM t').fetchall()
                    rel = con.sql('SELECT COLUMNS(*)::VARCHAR FROM t')
                    names = rel.columns
                    rows = sorted((dict(zip(names, r)) for r in rel.fetchall()), key=key)
                    typed = con.sql('SELECT * FROM t').arrow()
                    typed = typed.read_all() if hasattr(typed, 'read_all') else typed
                finally:
                    con.execute('DETACH t')
                golden['crossCheck'] = cross_check(table_root, v, typed.to_pylist())
                golden['columns'] = [[c[0], c[1]] for c in described]
                golden['rowCount'] = len(rows)
                golden['rows'] = rows
            except duckdb.IOException as e:
                total, missing = missing_files(table_root, v)
                if not missing:
                    raise
                golden['oracleError'] = str(e).splitlines()[0][:200]
                golden['error'] = {'code': 'DATA_FILE_MISSING', 'activeFiles': total, 'missingFiles': missing}
            write(os.path.join(OUT, table, f'v{v}.json'), golden)
            print(table, v, golden.get('rowCount', golden.get('error', {}).get('code')), golden.get('crossCheck', ''))


if __name__ == '__main__':
    main()
