"""Entry point of a measured child: `python -m benchmarks.child '<spec json>'`.

It runs one workload and prints one result line with the wall time of the work
and the process's own peak RSS (`ru_maxrss`, read at the very end), so the
harness never mixes one measurement's memory with another's. It is started by
benchmarks/launch.py, which is what makes `ru_maxrss` this process's own; the
kernel's per-process high-water mark (VmHWM) is reported beside it as a check.
"""

from __future__ import annotations

import json
import resource
import sys

from benchmarks.workloads import WORKLOADS

RESULT_PREFIX = "BENCH-RESULT "


def _vm_hwm_kb() -> int | None:
    """This process's peak RSS since exec, from /proc (None where there is no /proc)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main() -> None:
    spec = json.loads(sys.argv[1])
    outcome = WORKLOADS[spec["workload"]](spec)
    outcome["peak_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcome["vm_hwm_kb"] = _vm_hwm_kb()
    sys.stdout.write(RESULT_PREFIX + json.dumps(outcome, default=str) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
