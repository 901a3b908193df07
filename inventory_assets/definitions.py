"""The code location: loads `defs/`, one InventoryApiComponent instance per vendor
(`defs/inventory_api/` ships; `dg scaffold defs` adds more). No logic here.

`dg` (`[tool.dg]` in pyproject.toml), `dagster -m inventory_assets.definitions`
and `workspace.yaml` all load this module, in a checkout or installed from the wheel
(docs/packaging.md).
"""

import warnings
from functools import lru_cache
from pathlib import Path

from dagster import (
    BetaWarning,
    ComponentTree,
    Definitions,
    PreviewWarning,
    SupersessionWarning,
    definitions,
)

from inventory_assets import defs as defs_folder
from inventory_assets.defs.inventory_api.attributes import component_model
from inventory_assets.settings import (
    SettingsError,
    instance_storage_problem,
    settings_environment,
)

# The directory holding the package: the checkout's root, or site-packages once installed.
# No file of the checkout is read through it (the defs folder is found as a module).
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
    source); they depend only on the defs folder's YAML and the `environment`.
    A failed build is not cached, so a fixed setting is read again.
    """
    try:
        loaded = _load_defs_folder()
    except Exception as error:
        # A bad setting is the user's to fix: its one line ends the output, not
        # Dagster's component tree around it.
        setting = SettingsError.within(error) or SettingsError.of_yaml(
            error, component_model().__name__
        )
        if setting is None:
            raise
        raise setting from None
    return loaded


def _load_defs_folder() -> Definitions:
    """Everything `defs/` defines, found from the package itself.

    What `load_from_defs_folder` builds, without the pyproject.toml it looks for
    (`[tool.dg.project]` only names the `inventory_assets.defs` module imported here):
    an installed package has none, and that lookup fails outside a checkout.
    """
    # No `code_location_name`: the name each loader registers the location under (dg: the
    # checkout's directory; workspace.yaml: inventory_assets) is the one Dagster uses.
    tree = ComponentTree(defs_module=defs_folder, project_root=PROJECT_ROOT)
    # Like `load_from_defs_folder`, without Dagster's notices about the APIs its component
    # tree uses internally (beta code references, preview module loaders, ...).
    with warnings.catch_warnings():
        for category in (DeprecationWarning, SupersessionWarning, PreviewWarning, BetaWarning):
            warnings.simplefilter("ignore", category)
        return tree.build_defs()
