"""The code location: loads `defs/` (the inventory_api component and the marts) and
applies the policy every asset shares. No logic here.

`dg` (`[tool.dg]` in pyproject.toml), `dagster -m inventory_assets.definitions`
and `workspace.yaml` all load this module.
"""

import warnings
from functools import lru_cache
from pathlib import Path

from dagster import BetaWarning, Definitions, PreviewWarning, definitions, load_from_defs_folder

from inventory_assets.settings import (
    SettingsError,
    instance_storage_problem,
    settings_environment,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Notices about Dagster APIs we use on purpose, each printed on every load otherwise:
# - partitioned asset checks (rows_match_api is partitioned like its asset) are a preview;
# - Dagster itself passes the beta `execution_type` when it copies our checks.
warnings.filterwarnings(
    "ignore", "Specifying a partitions_def on an AssetCheckSpec", PreviewWarning
)
warnings.filterwarnings("ignore", "Parameter `execution_type`", BetaWarning)
# With INVENTORY_EXECUTOR=celery, dagster-celery registers its one task again for every
# step it submits, and Celery warns each time that the name is taken: the same task.
warnings.filterwarnings("ignore", "Task name 'execute_plan' is already registered")


@definitions
def defs() -> Definitions:
    # Checked on every load, not only on a build: the build is cached by the INVENTORY_*
    # settings alone, and the instance's URL must be refused whenever it is wrong.
    problem = instance_storage_problem()
    if problem is not None:
        raise SettingsError(problem)
    return _built_for(settings_environment())


@lru_cache(maxsize=4)
def _built_for(environment: tuple[tuple[str, str], ...]) -> Definitions:
    """The definitions in this environment, built once per process.

    Dagster's CLI asks for them three or four times in one `dagster asset
    materialize` (about half a second each, the component tree and the spec
    source); they depend only on defs.yaml and the INVENTORY_* `environment`.
    A failed build is not cached, so a fixed setting is read again.
    """
    try:
        loaded = load_from_defs_folder(project_root=PROJECT_ROOT)
    except Exception as error:
        # A bad setting is the user's to fix: its one line ends the output, not
        # Dagster's component tree around it.
        setting = SettingsError.within(error) or SettingsError.of_yaml(error)
        if setting is None:
            raise
        raise setting from None
    # Every asset is stored in the configured warehouse: its kind shows which.
    label = loaded.resources["destination"].label
    # `Definitions.map_asset_specs` is a preview API; it is the one way to label
    # assets that several modules define, and its behaviour is what we test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return loaded.map_asset_specs(func=label)
