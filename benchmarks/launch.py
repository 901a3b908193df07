"""A small launcher between the harness and every measured process.

Linux carries a process's peak RSS across fork + exec: a child spawned by the
harness starts its `ru_maxrss` at the harness's own peak, which holds the
simulator's data (a 500 MB parent makes even `python -c pass` report 500 MB).
So the harness starts this launcher, which imports nothing but the standard
library and spawns the measured process itself: that process's `ru_maxrss`
(read in benchmarks/child.py) is then its own, and so is the launcher's
`RUSAGE_CHILDREN`, the peak of the measured process tree (used for the CLI).

Usage: `python -m benchmarks.launch '<argv json>'`; the measured process
inherits stdout and stderr, and this prints one result line after it.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time

PROCESS_PREFIX = "BENCH-PROCESS "


def main() -> None:
    argv = json.loads(sys.argv[1])
    sys.stdout.flush()
    started = time.perf_counter()
    returncode = subprocess.call(argv)
    wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    outcome = {"wall_s": wall, "returncode": returncode, "tree_peak_rss_kb": usage.ru_maxrss}
    sys.stdout.write(PROCESS_PREFIX + json.dumps(outcome) + "\n")
    sys.stdout.flush()
    raise SystemExit(returncode)


if __name__ == "__main__":
    main()
