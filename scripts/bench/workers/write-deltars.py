"""Write benchmark, delta-rs side: write_deltalake of the staging rows (partitioned by season,
ZSTD like ours) into a fresh table. The rows stream from the staging Parquet file as Arrow
record batches; reading them is part of the timed work, as reading it is for the other sides.
    python write-deltars.py <tableRoot> <staging.parquet>"""
import json
import resource
import sys
import time

import pyarrow.dataset as ds
from deltalake import DeltaTable, WriterProperties, write_deltalake


def cpu_seconds():
    """User + system CPU time of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


table_root, staging = sys.argv[1], sys.argv[2]
started = time.perf_counter()
cpu = cpu_seconds()
reader = ds.dataset(staging, format="parquet").scanner().to_reader()
write_deltalake(
    table_root,
    reader,
    partition_by=["season"],
    mode="overwrite",
    writer_properties=WriterProperties(compression="ZSTD", compression_level=3),
)
ms = (time.perf_counter() - started) * 1000
cpu_ms = (cpu_seconds() - cpu) * 1000
adds = DeltaTable(table_root).get_add_actions(flatten=True)
sizes = adds.column("size_bytes").to_pylist()
rows = adds.column("num_records").to_pylist()
print(json.dumps({
    "ms": ms,
    "cpuMs": cpu_ms,
    "files": len(sizes),
    "bytes": sum(sizes),
    "rows": sum(r or 0 for r in rows),
    "selfMaxRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
