"""Where the in-process run's time goes: cProfile's cumulative time of a few phases.

One extra, untimed run of the cpu scenario's project workload under cProfile.
The profiler slows Python code more than C code (Arrow, DuckDB, JSON), so the
shares are indicative; the medians in the results table are the timings.
"""

from __future__ import annotations

import cProfile
import pstats
from typing import Any

# phase -> (path fragment of the function's file, function name), cumulative time.
PHASE_FUNCTIONS = {
    "total": ("dagster/_core/definitions/materialize.py", "materialize"),
    "load_window": ("inventory_assets/loading.py", "load_window"),
    "http": ("dlt/sources/helpers/rest_client/client.py", "_send_request"),
    "record checks": ("inventory_assets/sources/inventory_api/columnar/batching.py", "__call__"),
    "extract": ("dlt/pipeline/pipeline.py", "extract"),
    "normalize": ("dlt/pipeline/pipeline.py", "normalize"),
    "load": ("dlt/pipeline/pipeline.py", "load"),
    "schema sync": ("dlt/pipeline/pipeline.py", "sync_destination"),
}


def _cumulative(stats: pstats.Stats, path: str, name: str) -> float:
    """The largest cumulative time of a function matching `path` and `name` (0 if unseen)."""
    times = [
        entry[3]
        for (filename, _, function), entry in stats.stats.items()  # type: ignore[attr-defined]
        if function == name and filename.endswith(path)
    ]
    return max(times, default=0.0)


def phases(stats: pstats.Stats) -> dict[str, float]:
    """Seconds per phase, each exclusive of the others, plus the total."""
    found = {phase: _cumulative(stats, *where) for phase, where in PHASE_FUNCTIONS.items()}
    extract_rest = found["extract"] - found["http"] - found["record checks"]
    return {
        "HTTP: requests, retries, JSON": found["http"],
        "record checks and Arrow batches": found["record checks"],
        "dlt extract (rest)": max(extract_rest, 0.0),
        "dlt normalize": found["normalize"],
        "dlt load (merge into the warehouse)": found["load"],
        "schema sync from the warehouse": found["schema sync"],
        "load_window (rest: lock, counts, columns)": max(
            found["load_window"]
            - found["extract"]
            - found["normalize"]
            - found["load"]
            - found["schema sync"],
            0.0,
        ),
        "Dagster: run, events, checks of the step": max(found["total"] - found["load_window"], 0.0),
        "total": found["total"],
    }


def profiled(workload: Any, spec: dict[str, Any]) -> dict[str, Any]:
    """Run `workload(spec)` under cProfile; its result plus the phases."""
    profiler = cProfile.Profile()
    result = profiler.runcall(workload, spec)
    result["phases"] = phases(pstats.Stats(profiler))
    return result
