"""How a run executes its steps: in subprocesses, in the run's own process, or on Celery workers.

Chosen by configuration when the code location loads, like the partitions' start,
with `INVENTORY_EXECUTOR`:

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

Every executor claims the `inventory_api` pool's slots from the instance, so the
pool's limit holds whichever one runs the steps.
"""

from __future__ import annotations

from typing import Any

from dagster import EnvVar, ExecutorDefinition, in_process_executor, multiprocess_executor

EXECUTOR_ENV = "INVENTORY_EXECUTOR"
CELERY_BROKER_ENV = "INVENTORY_CELERY_BROKER"
MULTIPROCESS = "multiprocess"
IN_PROCESS = "in_process"
CELERY = "celery"

# Redis serves as both broker and result backend; dagster-celery's default
# backend (`rpc://`) works only with an AMQP broker.
CELERY_EXECUTOR_CONFIG: dict[str, Any] = {
    "broker": {"env": CELERY_BROKER_ENV},
    "backend": {"env": CELERY_BROKER_ENV},
}


def inventory_executor() -> ExecutorDefinition:
    """The executor `INVENTORY_EXECUTOR` names (in-process when unset)."""
    choice = (EnvVar(EXECUTOR_ENV).get_value(IN_PROCESS) or IN_PROCESS).strip().lower()
    if choice == IN_PROCESS:
        return in_process_executor
    if choice == MULTIPROCESS:
        return multiprocess_executor
    if choice == CELERY:
        # Imported here: only the `production` extra installs dagster-celery.
        try:
            from dagster_celery import celery_executor
        except ImportError as error:
            raise ImportError(
                f"{EXECUTOR_ENV}={CELERY} needs dagster-celery: "
                "pip install 'inventory_assets[production]'"
            ) from error

        return celery_executor.configured(CELERY_EXECUTOR_CONFIG)
    raise ValueError(
        f"{EXECUTOR_ENV}={choice!r} is not an executor this project knows; "
        f"use {IN_PROCESS!r} (the default), {MULTIPROCESS!r} or {CELERY!r}."
    )
