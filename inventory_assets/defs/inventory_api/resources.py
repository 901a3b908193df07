"""Resources: the vendor's API, dlt's working directory, and the warehouse.

They are built once from the settings (`build_resources`); the secrets stay
`EnvVar`s, resolved where a run executes, so the definitions and the UI only
ever show the variable's name. The sensors, the checks and the loads get the
same resource objects, so a setting reaches all of them.
"""

from __future__ import annotations

import contextlib
import inspect
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, TypeVar, get_type_hints

import dlt
from dagster import (
    Config,
    ConfigurableResource,
    DagsterInstance,
    DagsterRunStatus,
    EnvVar,
    Failure,
)
from dlt.sources import DltSource
from pydantic import Field

from inventory_assets.settings import (
    DLT_SECRETS_SECTION,
    ApiSettings,
    EnvReference,
    InventorySettings,
    OAuth2AuthSettings,
    secret_from_dlt,
)
from inventory_assets.sources.inventory_api import (
    ApiOptions,
    Endpoint,
    ExtractStats,
    Window,
    inventory_source,
)
from inventory_assets.sources.inventory_api.changes import ChangeFeed
from inventory_assets.sources.inventory_api.client import VendorClient
from inventory_assets.sources.inventory_api.contract import (
    REQUIRED_SECRETS,
    SECRET_FIELDS,
    Auth,
    Credentials,
)
from inventory_assets.warehouse.destination import DestinationResource
from inventory_assets.warehouse.duckdb_file import DuckDBDestinationResource
from inventory_assets.warehouse.postgres import PostgresDestinationResource

# The resources of a component instance, by the parameter names its functions take.
RESOURCE_NAMES = ("vendor_api", "destination", "dlt_working_dir")
RUN_DIR_PREFIX = "inventory-dlt-"
ABANDONED_AFTER_SECONDS = 24 * 3600
# A live run touches its directory this often, so its age says when it was last alive.
HEARTBEAT_SECONDS = 600.0
FINISHED = frozenset(
    {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
)
# A sensor tick must finish well inside Dagster's evaluation timeout (60 s).
SENSOR_RETRIES = 1


_OAUTH2 = OAuth2AuthSettings.model_fields


class AuthConfig(Config):
    """How the vendor takes its credentials, in dlt's vocabulary; the secrets are apart."""

    type: str = Field(default="api_key", description="api_key, bearer, http_basic or oauth2_...")
    name: str = Field(default="api_key", description="api_key: the parameter, header or cookie")
    location: str = Field(default="query", description="api_key: query, header or cookie")
    prefix: str = Field(default="", description="api_key in a header: put before the key")
    access_token_url: str | None = Field(default=None, description="oauth2: the token URL")
    # The OAuth2 defaults are the settings layer's (OAuth2AuthSettings): written there only.
    access_token_request_data: dict[str, str] = Field(
        default_factory=_OAUTH2["access_token_request_data"].default_factory,
        description="oauth2: more fields of the token request",
    )
    default_token_expiration: int = Field(
        default=_OAUTH2["default_token_expiration"].default, description="oauth2: seconds"
    )


def _default(name: str) -> Any:
    """The setting's default (settings.py's ApiSettings): written there only."""
    return ApiSettings.model_fields[name].default


class VendorApiResource(ConfigurableResource):
    """The vendor's API: where it is, its credentials, and how it windows and fails.

    The secrets are `EnvVar`s where the variable is set where the code location
    loads; otherwise they resolve at run time through dlt's config providers
    (`SOURCES__INVENTORY_API__<FIELD>`, then `.dlt/secrets.toml`'s
    `[sources.inventory_api]`), as dlt's own sources keep them.
    """

    base_url: str = Field(description="Base URL of the API (set INVENTORY_API_BASE_URL)")
    auth: AuthConfig = Field(default_factory=AuthConfig, description="How the key is sent")
    api_key: str | None = Field(default=None, description="api_key auth (INVENTORY_API_KEY)")
    token: str | None = Field(default=None, description="bearer auth: the token")
    username: str | None = Field(default=None, description="http_basic auth")
    password: str | None = Field(default=None, description="http_basic auth")
    client_id: str | None = Field(default=None, description="oauth2 auth")
    client_secret: str | None = Field(default=None, description="oauth2 auth")
    # field -> the variable that holds it, to say which to set when one is missing
    secret_variables: dict[str, str] = Field(default_factory=dict)
    window_start_param: str = Field(
        default=_default("window_start_param"),
        description="Query parameter of a window's inclusive start",
    )
    window_end_param: str = Field(
        default=_default("window_end_param"),
        description="Query parameter of a window's exclusive end",
    )
    max_retries: int = Field(
        default=_default("max_retries"), ge=0, description="Retries of a failed request"
    )
    backoff_factor: float = Field(
        default=_default("backoff_factor"), description="Exponential backoff factor (s)"
    )
    request_timeout_seconds: float = Field(
        default=_default("request_timeout_seconds"), description="Timeout of one request"
    )
    repage_passes: int = Field(
        default=_default("repage_passes"),
        ge=0,
        description=(
            "How many more times a window that came up short (records changed while it was"
            " paged) is paged before its load fails (INVENTORY_REPAGE_PASSES)"
        ),
    )
    max_requests_per_second: float | None = Field(
        default=None,
        gt=0,
        allow_inf_nan=False,
        description=(
            "Most requests per second this process sends the vendor: its share of"
            " INVENTORY_MAX_REQUESTS_PER_SECOND (divided by INVENTORY_RATE_LIMIT_PROCESSES)"
        ),
    )
    max_concurrency: int = Field(
        default=_default("max_concurrency"),
        ge=1,
        description=(
            "Most requests in flight at once: a range of days is fetched as daily"
            " sub-windows, this many at a time. Keep it within the vendor's rate limit."
        ),
    )

    def options(self, max_retries: int | None = None) -> ApiOptions:
        """How the source calls the vendor: this resource's fields of the same names."""
        auth = self.auth.model_dump()
        auth["access_token_request_data"] = tuple(auth["access_token_request_data"].items())
        return ApiOptions(
            auth=Auth(**auth),
            window_start_param=self.window_start_param,
            window_end_param=self.window_end_param,
            max_retries=self.max_retries if max_retries is None else max_retries,
            backoff_factor=self.backoff_factor,
            request_timeout_seconds=self.request_timeout_seconds,
            max_requests_per_second=self.max_requests_per_second,
        )

    def credentials(self) -> Credentials:
        """The secrets the auth needs: the fields, else dlt's config providers; a missing
        one fails in one line that names where to set it."""
        found = {name: getattr(self, name) for name in SECRET_FIELDS}
        for name in REQUIRED_SECRETS[self.auth.type]:
            found[name] = found[name] or dlt.secrets.get(f"{DLT_SECRETS_SECTION}.{name}")
            if not found[name]:
                raise Failure(_missing_secret(name, self.secret_variables.get(name)))
        return Credentials(**found)

    def auth_as_written(self) -> dict[str, Any]:
        """The auth as defs.yaml writes it, secrets as `{env: NAME}` (the probe's fragment);
        a secret given without its variable's name (a resource built in code) as `***`,
        never as itself: the fragment and the probe's messages are printed and logged."""
        written: dict[str, Any] = {
            name: value
            for name, value in self.auth.model_dump().items()
            if value != AuthConfig.model_fields[name].get_default(call_default_factory=True)
            or name in ("type", "name", "location")
        }
        for name in REQUIRED_SECRETS[self.auth.type]:
            variable = self.secret_variables.get(name)
            written[name] = {"env": variable} if variable else "***"
        if self.auth.type != "api_key":
            written.pop("name", None)
            written.pop("location", None)
        return written

    def client(
        self, stats: ExtractStats | None = None, max_retries: int | None = None
    ) -> VendorClient:
        """The vendor's one client, for a load, a check, a sensor or the probe."""
        return VendorClient(self.base_url, self.credentials(), self.options(max_retries), stats)

    def checked_base_url(self, endpoint: Endpoint) -> str:
        """The base URL, if requests can use it for this endpoint; else one clear line.

        Checked before the first request: requests' own errors for these ("No
        connection adapters were found", a 404 at the path twice) say nothing of
        the setting.
        """
        url = self.base_url.strip().rstrip("/")
        problem = None
        if not url.lower().startswith(("http://", "https://")):
            problem = f"has no scheme; set it to https://{url} (or http:// for a local API)"
        elif url.endswith(endpoint.path.rstrip("/")):
            problem = (
                f"ends with the endpoint's path {endpoint.path}, which is appended to it; "
                f"set it to {url.removesuffix(endpoint.path.rstrip('/'))}"
            )
        if problem:
            raise Failure(f"INVENTORY_API_BASE_URL={self.base_url!r} {problem}.")
        return url

    def source(self, endpoint: Endpoint, window: Window | None, stats: ExtractStats) -> DltSource:
        """The dlt source of one endpoint for one window, counting requests into `stats`."""
        return inventory_source(
            self.checked_base_url(endpoint),
            self.credentials(),
            window,
            endpoint=endpoint,
            options=self.options(),
            split_daily=self.max_concurrency > 1,
            stats=stats,
        )

    def change_feed(self, endpoint: Endpoint, max_retries: int | None = None) -> ChangeFeed:
        """Light-weight reads of the listing, for the change sensor and the reconciliation."""
        self.checked_base_url(endpoint)
        return ChangeFeed(self.client(max_retries=max_retries), endpoint)


class DltWorkingDirResource(ConfigurableResource):
    """Where dlt keeps its local working state during one run.

    Each run gets its own pipelines dir, removed afterwards: two partitions can
    run at once without sharing dlt's state, and a killed run leaves nothing
    that a later run would pick up (its directory is never read again). The
    window is pulled whole every run, so no local state needs to survive.

    A killed run's directory is pruned by a later run, once it is abandoned:
    its run is not in progress (the instance knows, by the run id in the
    directory's name) and nothing has touched it for a day. A live run touches
    its directory every `HEARTBEAT_SECONDS`, so a run longer than a day, of
    this instance or another sharing the folder, is never pruned.
    """

    working_dir: str | None = Field(
        default=None,
        description="Parent of the per-run dlt dirs (INVENTORY_DLT_WORKING_DIR; default: temp)",
    )

    @contextmanager
    def pipeline(
        self,
        pipeline_name: str,
        run_id: str,
        destination: DestinationResource,
        instance: DagsterInstance | None = None,
    ) -> Iterator[dlt.Pipeline]:
        """A fresh dlt pipeline in a private directory that is removed afterwards."""
        parent = Path(self.working_dir or tempfile.gettempdir())
        parent.mkdir(parents=True, exist_ok=True)
        _prune_abandoned(parent, instance)
        with (
            tempfile.TemporaryDirectory(prefix=f"{RUN_DIR_PREFIX}{run_id}-", dir=parent) as tmp,
            heartbeat(Path(tmp)),
        ):
            yield dlt.pipeline(
                pipeline_name=pipeline_name,
                pipelines_dir=tmp,
                destination=destination.dlt_destination(),
                dataset_name=destination.dataset_name,
                progress=None,
            )


@contextmanager
def heartbeat(directory: Path, interval: float = HEARTBEAT_SECONDS) -> Iterator[None]:
    """Touch `directory` every `interval` seconds while the block runs.

    dlt writes only into its subdirectories, so without this a run longer than
    the age limit would look abandoned from outside.
    """
    stopped = threading.Event()

    def beat() -> None:
        while not stopped.wait(interval):
            with contextlib.suppress(OSError):
                directory.touch()

    beating = threading.Thread(target=beat, name="dlt-dir-heartbeat", daemon=True)
    beating.start()
    try:
        yield
    finally:
        stopped.set()
        beating.join()


def _run_in_progress(leftover: Path, instance: DagsterInstance | None) -> bool:
    """Whether the instance knows the directory's run and it has not finished."""
    if instance is None:
        return False
    run_id = leftover.name.removeprefix(RUN_DIR_PREFIX)[:36]
    with contextlib.suppress(Exception):  # a name that holds no run id, a storage hiccup
        run = instance.get_run_by_id(run_id)
        return run is not None and run.status not in FINISHED
    return False


def _prune_abandoned(parent: Path, instance: DagsterInstance | None) -> None:
    """Remove run directories that killed runs left behind more than a day ago."""
    cutoff = time.time() - ABANDONED_AFTER_SECONDS
    for leftover in parent.glob(f"{RUN_DIR_PREFIX}*"):
        with contextlib.suppress(OSError):
            if (
                leftover.is_dir()
                and leftover.stat().st_mtime < cutoff
                and not _run_in_progress(leftover, instance)
            ):
                shutil.rmtree(leftover, ignore_errors=True)


def _env_or_value(value: EnvReference | str) -> Any:
    return EnvVar(value.env) if isinstance(value, EnvReference) else value


def _secret_fields(api: ApiSettings) -> dict[str, Any]:
    """The auth's secrets as resource fields: `EnvVar`s, or None where dlt's config
    providers hold the secret instead (see `VendorApiResource`); literal usernames
    and client ids as they are written."""
    fields: dict[str, Any] = {}
    variables: dict[str, str] = {}
    for name in SECRET_FIELDS:
        written = getattr(api.auth_in_force, name, None)
        if isinstance(written, EnvReference):
            variables[name] = written.env
            fields[name] = None if secret_from_dlt(name, written) else EnvVar(written.env)
        elif written is not None:
            fields[name] = written
    return {**fields, "secret_variables": variables}


def _missing_secret(name: str, variable: str | None) -> str:
    dlt_name = f"{DLT_SECRETS_SECTION}.{name}"
    env_name = f"{DLT_SECRETS_SECTION}.{name}".upper().replace(".", "__")
    where = f"{variable} is not set where this run executes, and " if variable else ""
    return (
        f"The vendor's credentials lack `{name}`: {where}dlt's config providers have no "
        f"{dlt_name} (the variable {env_name}, or [{DLT_SECRETS_SECTION}] in "
        f".dlt/secrets.toml). Set one of them."
    )


def destination_resource(settings: InventorySettings) -> DestinationResource:
    """The warehouse the settings name; a Postgres URL stays an `EnvVar`."""
    warehouse = settings.warehouse
    dataset = warehouse.dataset or settings.group
    if warehouse.destination == "postgres":
        return PostgresDestinationResource(
            url=EnvVar(warehouse.postgres_url.env), dataset_name=dataset
        )
    return DuckDBDestinationResource(
        path=warehouse.duckdb_path,
        dataset_name=dataset,
        lock_timeout_seconds=warehouse.duckdb_lock_timeout_seconds,
        replica_path=warehouse.duckdb_replica_path,
    )


def vendor_api_resource(api: ApiSettings, **overrides: Any) -> VendorApiResource:
    """The vendor's resource as the settings describe it (tests override a field or two)."""
    options = api.options()
    auth = {
        **asdict(options.auth),
        "access_token_request_data": dict(options.auth.access_token_request_data),
    }
    fields = {
        "base_url": _env_or_value(api.base_url),
        "auth": AuthConfig(**auth),
        **_secret_fields(api),
        "window_start_param": options.window_start_param,
        "window_end_param": options.window_end_param,
        "max_retries": options.max_retries,
        "backoff_factor": options.backoff_factor,
        "request_timeout_seconds": options.request_timeout_seconds,
        "max_concurrency": api.max_concurrency,
        "max_requests_per_second": options.max_requests_per_second,
        "repage_passes": api.repage_passes,
    }
    return VendorApiResource(**{**fields, **overrides})


F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ResourceKeys:
    """The resource keys of one component instance: its group's, so two vendors never
    share a resource (`inventory_vendor_api`, `acme_vendor_api`, ...).

    The functions of the definitions ask for `vendor_api`, `destination` and
    `dlt_working_dir` by those parameter names; `injected` renames them to this
    instance's keys. It is how one function, written once, takes each instance's
    own resources: Dagster injects resources by parameter name, and
    `@dlt_assets` takes no `required_resource_keys`.
    """

    group: str

    def key(self, name: str) -> str:
        """The key of the resource a function asks for as `name` (one of RESOURCE_NAMES)."""
        return f"{self.group}_{name}"

    def injected(self, fn: F) -> F:
        """`fn`, with its resource parameters under this instance's keys, for Dagster's
        decorators; it is called with them under their own names."""
        hints = get_type_hints(fn)
        own_names = {self.key(name): name for name in RESOURCE_NAMES}
        parameters = [
            parameter.replace(
                name=self.key(parameter.name) if parameter.name in RESOURCE_NAMES else name,
                annotation=hints.get(name, parameter.annotation),
            )
            for name, parameter in inspect.signature(fn).parameters.items()
        ]

        def arguments(given: dict[str, Any]) -> dict[str, Any]:
            return {own_names.get(name, name): value for name, value in given.items()}

        if inspect.isgeneratorfunction(fn):

            def call(*args: Any, **kwargs: Any) -> Any:
                yield from fn(*args, **arguments(kwargs))
        else:

            def call(*args: Any, **kwargs: Any) -> Any:
                return fn(*args, **arguments(kwargs))

        call.__name__, call.__qualname__, call.__doc__ = fn.__name__, fn.__qualname__, fn.__doc__
        call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            parameters, return_annotation=hints.get("return", inspect.Signature.empty)
        )
        return call  # type: ignore[return-value]


def build_resources(settings: InventorySettings) -> dict[str, Any]:
    """Every resource of one instance's definitions, under its keys (`ResourceKeys`)."""
    keys = ResourceKeys(settings.group)
    return {
        keys.key("vendor_api"): vendor_api_resource(settings.api),
        keys.key("destination"): destination_resource(settings),
        keys.key("dlt_working_dir"): DltWorkingDirResource(
            working_dir=settings.warehouse.dlt_working_dir
        ),
    }
