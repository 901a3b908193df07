"""How a run executes its steps: in subprocesses, in the run's own process, or on Celery workers.

Chosen by the settings (`executor`, `INVENTORY_EXECUTOR`) when the code location
loads:

- unset or `in_process`: every step in the run's own process. The ingestion job's
  steps run one after the other anyway (the checks need the load), so this saves
  starting a Python process per step: a CLI run of one empty partition takes 4 s
  instead of 12 s on 2 cores (see benchmarks/).
- `multiprocess`: Dagster's default executor, each step in a subprocess of the
  run (a step that crashes its process cannot take the run's process with it).
- `celery`: dagster-celery's executor; steps go to Celery workers through the
  broker in `INVENTORY_CELERY_BROKER`. The URL stays an `env:` reference in the
  executor's config, resolved where the run executes, so it is never baked into
  the definitions or shown in the UI. Workers start with the same config
  (`deploy/celery_worker.yaml`): they only take tasks from the broker they listen to.

Every executor claims the vendor API pool's slots from the instance, so the
pool's limit holds whichever one runs the steps.

The executor is the code location's, not a vendor's: every component instance
must name the same one (Dagster refuses two), and builds the same object for it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from dagster import ExecutorDefinition, in_process_executor, multiprocess_executor

CELERY_BROKER_ENV = "INVENTORY_CELERY_BROKER"

# Redis serves as both broker and result backend; dagster-celery's default
# backend (`rpc://`) works only with an AMQP broker.
CELERY_EXECUTOR_CONFIG: dict[str, Any] = {
    "broker": {"env": CELERY_BROKER_ENV},
    "backend": {"env": CELERY_BROKER_ENV},
}


@cache
def build_executor(choice: str) -> ExecutorDefinition:
    """The executor the settings name (`in_process`, `multiprocess` or `celery`), one object
    per choice, so that two component instances naming it give Dagster the same one."""
    if choice == "multiprocess":
        return multiprocess_executor
    if choice == "celery":
        # Imported here: only the `production` extra installs dagster-celery.
        try:
            from dagster_celery import celery_executor
        except ImportError as error:
            raise ImportError(
                "INVENTORY_EXECUTOR=celery needs dagster-celery: "
                "pip install 'inventory_assets[production]'"
            ) from error
        return celery_executor.configured(CELERY_EXECUTOR_CONFIG)
    return in_process_executor
