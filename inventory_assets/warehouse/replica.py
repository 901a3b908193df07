"""The DuckDB file's read replica: a copy, replaced after every load and refresh.

Readers of the replica never hold the warehouse's lock: one that has the old
copy open keeps reading it (the file it opened stays until closed), the next
one opens the new copy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path


def replace_replica(database: Path, replica: Path) -> None:
    """Replace `replica` with a copy of the `database` file as it is now, atomically.

    Called under the writers' lock, with everything committed checkpointed into
    the file (nothing left in the WAL).
    """
    replica.parent.mkdir(parents=True, exist_ok=True)
    # Copies a killed publish left behind: only publishers (under the lock) make them.
    for leftover in replica.parent.glob(f".{replica.name}.*.tmp"):
        leftover.unlink(missing_ok=True)
    staged = replica.with_name(f".{replica.name}.{os.getpid()}.tmp")
    shutil.copyfile(database, staged)
    os.replace(staged, replica)  # atomic: a reader opens the old copy or the new one
