"""Canonical JSON form of Arrow rows, shared by the oracle scripts.

Every reader's answer is turned into the same plain JSON before it is compared (the TypeScript
side, test/interop/normalize.ts, applies the same rules to DuckDB values):

- integers of any width: decimal strings (JSON numbers lose precision past 2**53)
- floats: JSON numbers; NaN, Infinity and -Infinity as those strings
- decimals: plain strings with exactly `scale` fraction digits ('12.30')
- timestamps with a zone: ISO 8601 in UTC with microseconds and a 'Z'; without a zone: no 'Z'
- dates: 'YYYY-MM-DD'; binary: base64; lists: arrays; structs: objects; maps: [key, value] pairs
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import math
from typing import Any

import pyarrow as pa

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def _timestamp(value: dt.datetime, aware: bool) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    text = value.strftime('%Y-%m-%dT%H:%M:%S.%f')
    return text + 'Z' if aware else text


def normalize(value: Any, arrow_type: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_dictionary(arrow_type):
        return normalize(value, arrow_type.value_type)
    if pa.types.is_boolean(arrow_type):
        return bool(value)
    if pa.types.is_integer(arrow_type):
        return str(int(value))
    if pa.types.is_floating(arrow_type):
        f = float(value)
        if math.isnan(f):
            return 'NaN'
        if math.isinf(f):
            return 'Infinity' if f > 0 else '-Infinity'
        return f
    if pa.types.is_decimal(arrow_type):
        d = decimal.Decimal(value).quantize(decimal.Decimal(1).scaleb(-arrow_type.scale))
        return format(d, 'f')
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_string_view(arrow_type):
        return str(value)
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type) or pa.types.is_fixed_size_binary(arrow_type) or pa.types.is_binary_view(arrow_type):
        return base64.b64encode(bytes(value)).decode('ascii')
    if pa.types.is_timestamp(arrow_type):
        return _timestamp(value, arrow_type.tz is not None)
    if pa.types.is_date(arrow_type):
        return value.isoformat()
    if pa.types.is_map(arrow_type):
        pairs = value.items() if isinstance(value, dict) else value
        return [[normalize(k, arrow_type.key_type), normalize(v, arrow_type.item_type)] for k, v in pairs]
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) or pa.types.is_fixed_size_list(arrow_type) or pa.types.is_list_view(arrow_type):
        return [normalize(v, arrow_type.value_type) for v in value]
    if pa.types.is_struct(arrow_type):
        return {arrow_type.field(i).name: normalize(value.get(arrow_type.field(i).name), arrow_type.field(i).type) for i in range(arrow_type.num_fields)}
    raise TypeError(f'no canonical form for Arrow type {arrow_type}')


def canonical_key(row: list[Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False, separators=(',', ':'))


def table_json(table: pa.Table) -> dict[str, Any]:
    """{columns: [{name, type}], rows: [[...], ...]} with rows in canonical order."""
    columns = [{'name': f.name, 'type': str(f.type)} for f in table.schema]
    types = [f.type for f in table.schema]
    rows = []
    for record in table.to_pylist():
        rows.append([normalize(record[f.name], t) for f, t in zip(table.schema, types)])
    rows.sort(key=canonical_key)
    return {'columns': columns, 'rows': rows}


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
