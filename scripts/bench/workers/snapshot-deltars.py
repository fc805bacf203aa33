"""Snapshot benchmark, delta-rs side: open the table (latest or at <version>) and list its
files (`file_uris()`; deltalake 1.x has no `files()`), in a fresh process; the import of
deltalake is not timed.
    python snapshot-deltars.py <tableRoot> [version|latest]"""
import json
import resource
import sys
import time

from deltalake import DeltaTable


def cpu_seconds():
    """User + system CPU time of this process (all threads)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


table_root = sys.argv[1]
version = None if len(sys.argv) < 3 or sys.argv[2] == "latest" else int(sys.argv[2])
started = time.perf_counter()
cpu = cpu_seconds()
dt = DeltaTable(table_root, version=version)
opened = time.perf_counter()
files = dt.file_uris()
done = time.perf_counter()
cpu_ms = (cpu_seconds() - cpu) * 1000
print(json.dumps({
    "ms": (done - started) * 1000,
    "cpuMs": cpu_ms,
    "openMs": (opened - started) * 1000,
    "version": dt.version(),
    "files": len(files),
    "selfMaxRssKb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
