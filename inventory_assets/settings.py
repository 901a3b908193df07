"""Every setting of the code location, validated once, when it loads.

Configuration flows one way: the environment and `defs/inventory_api/defs.yaml`
-> `InventorySettings` (this module) -> the Dagster resources and definitions
-> the dlt source. The YAML reads the environment through Dagster's templates
(`{{ env.INVENTORY_PAGE_SIZE }}`); a template that renders empty means "not
set", and the default here applies. Secrets are never rendered: the YAML names
their variable (`api_key: {env: INVENTORY_API_KEY}`) and the resources read it
through `EnvVar` where a run executes.

A bad value fails the load with one line that names the YAML field, the
environment variable it came from, and what is accepted
(`SettingsError`); nothing else in the project reads the environment.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from croniter import croniter
from dagster import ResolutionContext
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from inventory_assets.sources.inventory_api.contract import (
    DELETED_COLUMN,
    PAGINATOR_TYPES,
    ApiOptions,
    Auth,
    Column,
    Endpoint,
    Paginator,
)

# The columns the marts' SQL reads from their upstream table (defs/inventory_api/marts.py).
MART_COLUMNS = ("inventory_id", "warehouse", "product_name", "quantity", "unit_price")
ColumnType = Literal["bigint", "text", "decimal", "timestamp", "bool", "double"]
SyncMode = Literal["window", "client_window", "full"]
Deletes = Literal["keep", "flag", "delete"]
Destination = Literal["duckdb", "postgres"]
Executor = Literal["in_process", "multiprocess", "celery"]


def _matching(pattern: str, expected: str) -> AfterValidator:
    """A string of `pattern`, refused in the user's terms (`expected`), not as a regex."""
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.fullmatch(value):
            raise ValueError(f"expected {expected}")
        return value

    return AfterValidator(check)


IDENTIFIER = r"[a-z][a-z0-9_]*"
Identifier = Annotated[
    str, _matching(IDENTIFIER, "lower-case letters, digits and _, e.g. inventory_data")
]
ParamName = Annotated[
    str, _matching(r"[A-Za-z0-9_.\-\[\]]+", "a query parameter or header name, e.g. per_page")
]
# Where in a page a value is: a dotted path (`page_context.has_more_page`); `$` the page.
JsonPath = Annotated[
    str,
    _matching(
        r"\$|[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*",
        "a dotted path to a field of the page, e.g. meta.total, or $ for the page itself",
    ),
]

# `{{ env.NAME }}` or `{{ env('NAME', ...) }}` in a template: where a value came from.
_ENV_IN_TEMPLATE = re.compile(r"env(?:\.|\(\s*['\"])([A-Za-z_][A-Za-z0-9_]*)")


def variables_read(value: Any) -> set[str]:
    """Every variable a YAML value reads: `{{ env.X }}`, `{{ env('X', ...) }}`, `{env: X}`
    (what its `requirements.env` lists)."""
    if isinstance(value, Mapping):
        found = {value["env"]} if set(value) == {"env"} else set()
        return found.union(*(variables_read(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(variables_read(item) for item in value))
    return set(_ENV_IN_TEMPLATE.findall(value)) if isinstance(value, str) else set()


class SettingsError(ValueError):
    """A setting with a value this project cannot use; the message is one line."""

    @classmethod
    def within(cls, error: BaseException) -> SettingsError | None:
        """The settings error a loader wrapped (Dagster wraps a component's errors)."""
        current: BaseException | None = error
        while current is not None and not isinstance(current, cls):
            current = current.__cause__ or current.__context__
        return current

    @classmethod
    def of_yaml(cls, error: BaseException, model: str) -> SettingsError | None:
        """The component's YAML refused by dg before anything rendered (an unknown field,
        a missing type, a secret written literally), as the same one line. `model` names
        the YAML's model, so another validation error in the chain is not taken for it."""
        current: BaseException | None = error
        while current is not None and not (
            isinstance(current, ValidationError) and current.title == model
        ):
            current = current.__cause__ or current.__context__
        return None if current is None else cls(_explain(current, {}, None))


class _Settings(BaseModel):
    # Unknown keys are typos: refuse them instead of ignoring the setting.
    model_config = ConfigDict(extra="forbid", frozen=True)


class EnvReference(_Settings):
    """A value read from the environment where a run executes, never at load."""

    env: Annotated[str, _matching(r"[A-Za-z_][A-Za-z0-9_]*", "an environment variable name")]


def _a_reference(value: Any) -> Any:
    if isinstance(value, str):
        raise ValueError(
            "must name an environment variable ({env: NAME}), never hold the secret itself"
        )
    return value


# The contract's way of calling the API (the source's own defaults), written once.
CONTRACT_OPTIONS = ApiOptions()
# The quota's bounds: a limit no vendor needs, and a share too small to be one's.
MAX_REQUESTS_PER_SECOND = 10_000.0
MIN_PROCESS_RATE = 1 / 60


# A secret: only ever named, as `{env: NAME}`; a literal is refused.
Secret = Annotated[EnvReference, BeforeValidator(_a_reference)]


class ApiKeyAuthSettings(_Settings):
    """dlt's `api_key` auth: the key as a query parameter, a header or a cookie.

    The defaults are dlt's (a header named Authorization). A header value with
    a scheme is the secret itself, as in dlt (`Token abc`), or the key after
    `prefix` (`prefix: "Token "`, ours).
    """

    type: Literal["api_key"]
    api_key: Secret = EnvReference(env="INVENTORY_API_KEY")
    name: ParamName = "Authorization"
    location: Literal["query", "header", "cookie"] = "header"
    prefix: str = ""

    @model_validator(mode="after")
    def _prefix_is_for_headers(self) -> ApiKeyAuthSettings:
        if self.prefix and self.location != "header":
            raise ValueError("prefix goes before a key sent in a header; location is not header")
        return self


class BearerAuthSettings(_Settings):
    """dlt's `bearer` auth: `Authorization: Bearer <token>`."""

    type: Literal["bearer"]
    token: Secret


class HttpBasicAuthSettings(_Settings):
    """dlt's `http_basic` auth."""

    type: Literal["http_basic"]
    username: EnvReference | str
    password: Secret


class OAuth2AuthSettings(_Settings):
    """dlt's `oauth2_client_credentials`: a client id and secret traded for an access token."""

    type: Literal["oauth2_client_credentials"]
    access_token_url: Annotated[str, _matching(r"https?://\S+", "an http(s):// URL")]
    client_id: EnvReference | str
    client_secret: Secret
    access_token_request_data: dict[str, str] = Field(default_factory=dict)
    default_token_expiration: int = Field(
        default=CONTRACT_OPTIONS.auth.default_token_expiration, ge=1
    )


AUTH_MODELS: dict[str, type[_Settings]] = {
    "api_key": ApiKeyAuthSettings,
    "bearer": BearerAuthSettings,
    "http_basic": HttpBasicAuthSettings,
    "oauth2_client_credentials": OAuth2AuthSettings,
}
AuthSettings = Annotated[
    ApiKeyAuthSettings | BearerAuthSettings | HttpBasicAuthSettings | OAuth2AuthSettings,
    Field(discriminator="type"),
]


class _PaginatorSettings(_Settings):
    """A paginator in dlt's vocabulary; its fields are dlt's, with dlt's defaults."""

    def paginator(self, api: ApiSettings) -> Paginator:
        fields = self.model_dump(exclude={"type", "total_path"})
        return Paginator(self.type, tuple(fields.items()), self.total_path)  # type: ignore[attr-defined]


class OffsetPaginatorSettings(_PaginatorSettings):
    """`offset`: the contract's paging. `limit` and `total_path` default to `api.page_size` and
    `api.total_path` (INVENTORY_PAGE_SIZE, INVENTORY_TOTAL_PATH)."""

    type: Literal["offset"]
    limit: int | None = Field(default=None, ge=1, le=10_000)
    offset_param: ParamName = "offset"
    limit_param: ParamName = "limit"
    total_path: JsonPath | None = None
    maximum_offset: int | None = Field(default=None, ge=1)
    has_more_path: JsonPath | None = None
    stop_after_empty_page: bool = True

    def paginator(self, api: ApiSettings) -> Paginator:
        fields = self.model_dump(exclude={"type", "total_path"})
        fields["limit"] = self.limit or api.page_size
        total_path = self.total_path if "total_path" in self.model_fields_set else api.total_path
        return Paginator("offset", tuple(fields.items()), total_path or None)


class PageNumberPaginatorSettings(_PaginatorSettings):
    """`page_number`: its `total_path` counts pages, as in dlt (not records)."""

    type: Literal["page_number"]
    base_page: int = 0
    page: int | None = None
    page_param: ParamName = "page"
    total_path: JsonPath | None = "total"
    maximum_page: int | None = Field(default=None, ge=1)
    has_more_path: JsonPath | None = None
    stop_after_empty_page: bool = True

    @model_validator(mode="after")
    def _knows_its_end(self) -> PageNumberPaginatorSettings:
        if not (
            self.total_path or self.maximum_page or self.has_more_path or self.stop_after_empty_page
        ):
            raise ValueError(
                "a page_number paginator needs total_path, has_more_path, maximum_page or"
                " stop_after_empty_page to know its last page"
            )
        return self

    def paginator(self, api: ApiSettings) -> Paginator:
        fields = self.model_dump(exclude={"type"})
        return Paginator("page_number", tuple(fields.items()), None)


class CursorPaginatorSettings(_PaginatorSettings):
    """`cursor`: the next page's cursor in the body. `total_path` (ours) counts records."""

    type: Literal["cursor"]
    cursor_path: JsonPath = "cursors.next"
    cursor_param: ParamName = "cursor"
    has_more_path: JsonPath | None = None
    stop_after_empty_page: bool = False
    total_path: JsonPath | None = None


class JsonLinkPaginatorSettings(_PaginatorSettings):
    """`json_link`: the next page's URL in the body. `total_path` (ours) counts records."""

    type: Literal["json_link"]
    next_url_path: JsonPath = "next"
    total_path: JsonPath | None = None


class HeaderLinkPaginatorSettings(_PaginatorSettings):
    """`header_link`: the next page's URL in the `Link` header. `total_path` (ours) counts
    records."""

    type: Literal["header_link"]
    links_next_key: ParamName = "next"
    total_path: JsonPath | None = None


class SinglePagePaginatorSettings(_PaginatorSettings):
    """`single_page`: the listing is one page."""

    type: Literal["single_page"]
    total_path: JsonPath | None = None


PAGINATOR_MODELS: dict[str, type[_PaginatorSettings]] = {
    "offset": OffsetPaginatorSettings,
    "page_number": PageNumberPaginatorSettings,
    "cursor": CursorPaginatorSettings,
    "json_link": JsonLinkPaginatorSettings,
    "header_link": HeaderLinkPaginatorSettings,
    "single_page": SinglePagePaginatorSettings,
}
assert tuple(PAGINATOR_MODELS) == PAGINATOR_TYPES


def _typed(value: Any) -> Any:
    """`paginator: header_link` is `{type: header_link}`, as dlt allows."""
    return {"type": value} if isinstance(value, str) else value


PaginatorSettings = Annotated[
    OffsetPaginatorSettings
    | PageNumberPaginatorSettings
    | CursorPaginatorSettings
    | JsonLinkPaginatorSettings
    | HeaderLinkPaginatorSettings
    | SinglePagePaginatorSettings,
    Field(discriminator="type"),
    BeforeValidator(_typed),
]


class ColumnSettings(_Settings):
    """One declared column of an endpoint's table."""

    type: ColumnType
    nullable: bool = True
    precision: int | None = Field(default=None, ge=1, le=38)
    scale: int | None = Field(default=None, ge=0, le=38)
    description: str = ""

    @model_validator(mode="after")
    def _decimal_has_precision(self) -> ColumnSettings:
        if self.type == "decimal" and (self.precision is None or self.scale is None):
            raise ValueError("a decimal column needs precision and scale")
        return self


class EndpointSettings(_Settings):
    """One listing of the vendor's API, loaded into a table of its own."""

    path: Annotated[str, _matching(r"/\S*", "a path that starts with /, e.g. /v1/resource")]
    data_selector: JsonPath = "data"
    # How the listing pages, in dlt's vocabulary; none: the contract's offset paging.
    paginator: PaginatorSettings | None = None
    # Static query parameters of every request (`per_page: 100`).
    params: dict[ParamName, str | int | float | bool] = Field(default_factory=dict)
    primary_key: Identifier
    # The field whose value places a record in a daily partition (windowed modes).
    cursor_field: Identifier = "updated_at"
    sync_mode: SyncMode = "window"
    # What a whole listing (client_window, full) does with rows the vendor no longer has.
    deletes: Deletes = "keep"
    columns: dict[Identifier, ColumnSettings]
    # Columns whose negative values make downstream sums wrong: a blocking check each.
    not_negative: list[Identifier] = Field(default_factory=list)
    description: str = ""

    @model_validator(mode="after")
    def _keys_are_columns(self) -> EndpointSettings:
        named = {"primary_key": [self.primary_key], "not_negative": self.not_negative}
        if self.partitioned:
            named["cursor_field"] = [self.cursor_field]
        for field, columns in named.items():
            unknown = [column for column in columns if column not in self.columns]
            if unknown:
                raise ValueError(f"{field} names {unknown}, which are not in columns")
        if self.columns[self.primary_key].nullable:
            raise ValueError(f"the primary key {self.primary_key!r} must not be nullable")
        if self.deletes != "keep" and self.sync_mode == "window":
            raise ValueError(
                f"deletes={self.deletes!r} needs a whole listing: set sync_mode to"
                " 'client_window' or 'full' (INVENTORY_SYNC_MODE), or deletes to 'keep'"
            )
        return self

    @property
    def partitioned(self) -> bool:
        """Windowed modes load daily partitions; `full` loads the whole listing at once."""
        return self.sync_mode != "full"

    def endpoint(self, name: str, api: ApiSettings) -> Endpoint:
        """The endpoint as the dlt source describes it; `api` holds the paging defaults."""
        paginator = self.paginator or OffsetPaginatorSettings(type="offset")
        return Endpoint(
            name=name,
            path=self.path,
            primary_key=self.primary_key,
            data_selector=self.data_selector,
            cursor_field=self.cursor_field,
            paginator=paginator.paginator(api),
            params=tuple(self.params.items()),
            sync_mode=self.sync_mode,
            deletes=self.deletes,
            not_negative=tuple(self.not_negative),
            columns=tuple(
                Column(column_name, **column.model_dump())
                for column_name, column in self.columns.items()
            )
            + self._bookkeeping_columns(),
        )

    def _bookkeeping_columns(self) -> tuple[Column, ...]:
        if self.deletes != "flag":
            return ()
        note = "When the vendor stopped listing this record (null while it lists it)"
        return (Column(DELETED_COLUMN, "timestamp", nullable=True, description=note),)


class ApiSettings(_Settings):
    """The vendor's API: where it is, how it pages and windows, how hard we may call it.

    The one place of every default a deployment may change; the resource and the
    YAML model (attributes.py) take theirs from here.
    """

    base_url: EnvReference | str = EnvReference(env="INVENTORY_API_BASE_URL")
    # The contract's auth, in short: this key as the query parameter `api_key_param`.
    api_key: Secret = EnvReference(env="INVENTORY_API_KEY")
    api_key_param: ParamName = CONTRACT_OPTIONS.auth.name
    # dlt's auth config: replaces api_key and api_key_param when given.
    auth: AuthSettings | None = None
    page_size: int = Field(default=100, ge=1, le=10_000)
    window_start_param: ParamName = CONTRACT_OPTIONS.window_start_param
    window_end_param: ParamName = CONTRACT_OPTIONS.window_end_param
    # Where a page says how many records match; "" for a vendor that says nothing
    # (paging then stops at an empty page, without the completeness check).
    total_path: Annotated[
        str,
        _matching(
            r"([A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*)?",
            "a dotted path to a field of the page, e.g. meta.total, or empty for none",
        ),
    ] = "total"
    max_concurrency: int = Field(default=8, ge=1, le=64)
    request_timeout_seconds: float = Field(default=CONTRACT_OPTIONS.request_timeout_seconds, gt=0)
    backoff_factor: float = Field(default=CONTRACT_OPTIONS.backoff_factor, ge=0)
    max_retries: int = Field(default=CONTRACT_OPTIONS.max_retries, ge=0, le=10)
    # How many more times a window that came up short is paged before its load fails
    # (a busy vendor's records move while a window is paged).
    repage_passes: int = Field(default=2, ge=0, le=10)
    # The concurrency pool of every step that calls the API; its limit is the instance's.
    pool: Identifier = "vendor_api_calls"
    # The vendor's quota, kept by every request a process makes (loads, checks, sensors,
    # the probe); none: no limit. A 429's Retry-After still wins.
    max_requests_per_second: float | None = Field(
        default=None, gt=0, le=MAX_REQUESTS_PER_SECOND, allow_inf_nan=False
    )
    # How many processes call the vendor at once (e.g. the pool's limit): each keeps to
    # max_requests_per_second / this, so together they keep the quota.
    rate_limit_processes: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _a_share_a_process_can_keep(self) -> ApiSettings:
        share = self.process_rate_limit
        if share is not None and share < MIN_PROCESS_RATE:
            raise ValueError(
                f"max_requests_per_second / rate_limit_processes leaves each process"
                f" {share:g} requests a second, below one a minute: raise the quota or lower"
                " rate_limit_processes"
            )
        return self

    @property
    def auth_in_force(self) -> AuthSettings:
        """The auth in force: `auth`, or the contract's query key from `api_key`."""
        if self.auth is not None:
            return self.auth
        return ApiKeyAuthSettings(
            type="api_key",
            api_key=self.api_key,
            name=self.api_key_param,
            location=CONTRACT_OPTIONS.auth.location,
        )

    def options(self) -> ApiOptions:
        """How the dlt source calls the vendor, as the source package describes it."""
        credentials = self.auth_in_force.model_dump(
            exclude={"api_key", "token", "username", "password", "client_id", "client_secret"}
        )
        request_data = tuple(credentials.pop("access_token_request_data", {}).items())
        return ApiOptions(
            auth=Auth(**credentials, access_token_request_data=request_data),
            window_start_param=self.window_start_param,
            window_end_param=self.window_end_param,
            max_retries=self.max_retries,
            backoff_factor=self.backoff_factor,
            request_timeout_seconds=self.request_timeout_seconds,
            max_requests_per_second=self.process_rate_limit,
        )

    @property
    def process_rate_limit(self) -> float | None:
        """The requests per second one process may send: its share of the quota."""
        if self.max_requests_per_second is None:
            return None
        return self.max_requests_per_second / self.rate_limit_processes


class WarehouseSettings(_Settings):
    """Where the tables live, and where dlt keeps a run's working files."""

    destination: Destination = "duckdb"
    # Not `inventory.duckdb`: DuckDB names the catalog after the file, and a catalog
    # named like the `inventory` schema makes every `inventory.<table>` ambiguous.
    duckdb_path: Annotated[str, StringConstraints(min_length=1)] = "data/warehouse.duckdb"
    postgres_url: EnvReference = EnvReference(env="INVENTORY_POSTGRES_URL")
    # The schema that holds the tables; none: the component's group (`inventory`), so two
    # vendors' endpoints of one name land in two tables.
    dataset: Identifier | None = None
    # A copy of the DuckDB file, replaced after each write, for readers who query during loads.
    duckdb_replica_path: str | None = None
    # How long a load or a check waits while another process holds the DuckDB file.
    duckdb_lock_timeout_seconds: float = Field(default=180.0, ge=0)
    # Parent of each run's private dlt directory; None is the system temp dir.
    dlt_working_dir: str | None = None


class FreshnessSettings(_Settings):
    """When a day's partition must have arrived, and how long the asset may go unloaded."""

    deadline_cron: str = "0 2 * * *"
    max_hours: float = Field(default=26.0, gt=0)

    @field_validator("deadline_cron")
    @classmethod
    def _is_cron(cls, value: str) -> str:
        if not croniter.is_valid(value):
            raise ValueError("is not a cron expression; use five fields, e.g. '0 2 * * *'")
        return value


class SensorSettings(_Settings):
    """How often each sensor looks (seconds)."""

    change_interval_seconds: int = Field(default=60, ge=1)
    freshness_interval_seconds: int = Field(default=60, ge=1)
    automation_interval_seconds: int = Field(default=30, ge=1)


class InventorySettings(_Settings):
    """The whole configuration of the code location."""

    api: ApiSettings = ApiSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    partitions_start: date = date(2026, 1, 1)
    freshness: FreshnessSettings = FreshnessSettings()
    sensors: SensorSettings = SensorSettings()
    executor: Executor = "in_process"
    group: Identifier = "inventory"
    endpoints: dict[Identifier, EndpointSettings] = Field(min_length=1)
    # The endpoint whose table the marts (stock_levels, low_stock_items) are computed
    # from, in this group; none: no marts.
    marts_from: Identifier | None = "inventory_data"

    @model_validator(mode="after")
    def _marts_have_their_columns(self) -> InventorySettings:
        if self.marts_from is None:
            return self
        upstream = self.endpoints.get(self.marts_from)
        if upstream is None:
            raise ValueError(
                f"marts_from names {self.marts_from!r}, which is not an endpoint"
                f" ({', '.join(self.endpoints)}); name one, or null for no marts"
            )
        lacking = [column for column in MART_COLUMNS if column not in upstream.columns]
        if lacking:
            raise ValueError(
                f"the marts need the columns {lacking} of {self.marts_from!r}; name another"
                " endpoint in marts_from, or null for no marts"
            )
        return self


def _env_sources(raw: Any, path: tuple = ()) -> dict[tuple, str]:
    """Field path -> the environment variable its template reads, for error messages."""
    if isinstance(raw, Mapping):
        found: dict[tuple, str] = {}
        for key, value in raw.items():
            found.update(_env_sources(value, (*path, key)))
        return found
    if isinstance(raw, list):
        return {
            k: v for i, item in enumerate(raw) for k, v in _env_sources(item, (*path, i)).items()
        }
    if isinstance(raw, str) and (match := _ENV_IN_TEMPLATE.search(raw)):
        return {path: match.group(1)}
    return {}


# Settings for which an empty value means something ("the API gives none").
_EMPTY_IS_A_VALUE = frozenset({"total_path"})


def _without_unset(values: Any, raw: Any) -> Any:
    """Drop values a template rendered empty (None or ""): their defaults apply.

    Only templates: a `null` written in the YAML (`total_path: null`, dlt's "none")
    is a value, and so is an empty `total_path` (INVENTORY_TOTAL_PATH=).
    """
    if isinstance(values, Mapping):
        kept = {}
        for key, value in values.items():
            written = raw.get(key) if isinstance(raw, Mapping) else None
            templated = isinstance(written, str) and "{{" in written
            if templated and (value is None or (value == "" and key not in _EMPTY_IS_A_VALUE)):
                continue
            kept[key] = _without_unset(value, written)
        return kept
    if isinstance(values, list):
        written = raw if isinstance(raw, list) else [None] * len(values)
        return [_without_unset(v, w) for v, w in zip(values, written, strict=False)]
    return values


# Pydantic's words for a value of the wrong kind, replaced by what to write instead.
_EXPECTED = {
    "date": "expected a date as YYYY-MM-DD, e.g. 2026-11-01",
    "float": "expected a number, e.g. 26",
    "int": "expected a whole number, e.g. 60",
    "bool": "expected true or false",
}


# The settings written in dlt's vocabulary: each `type` and the fields it takes.
TYPED = {"auth": AUTH_MODELS, "paginator": PAGINATOR_MODELS}


def _as_written(location: tuple) -> tuple:
    """A location as defs.yaml names it. dg reports `attributes.api.page_size at
    .../defs.yaml:12`, one string; the settings name `("api", "page_size")`."""
    if len(location) == 1 and isinstance(location[0], str):  # dg joins the parts with dots
        location = tuple(location[0].split(" at ", 1)[0].split("."))
    return location[1:] if location[:1] == ("attributes",) else location


def _tagged(location: tuple) -> tuple[tuple, str | None, dict | None]:
    """The location without the type tag pydantic adds under `auth`/`paginator` (`paginator.
    header_link.has_more_path` is `paginator.has_more_path`), the tag, and its models."""
    for index, part in enumerate(location[:-1]):
        models = TYPED.get(str(part))
        if models is not None and location[index + 1] in models:
            return location[: index + 1] + location[index + 2 :], location[index + 1], models
    models = TYPED.get(str(location[-1])) if location else None
    return location, None, models


def _typed_message(problem: Mapping[str, Any], tag: str | None, models: dict) -> str | None:
    """dlt-vocabulary mistakes in dlt's words: an unknown type, a field the type lacks."""
    kinds = ", ".join(models)
    if problem["type"] == "union_tag_invalid":
        return f"unknown type {problem['input'].get('type')!r}; use one of {kinds}"
    if problem["type"] == "union_tag_not_found":
        return f"needs a type: one of {kinds}"
    if problem["type"] == "extra_forbidden" and tag is not None:
        fields = ", ".join(name for name in models[tag].model_fields if name != "type")
        return f"{tag} takes no {problem['loc'][-1]}; its fields are {fields or 'none'}"
    return None


def _message(problem: Mapping[str, Any], tag: str | None = None, models: dict | None = None) -> str:
    typed = _typed_message(problem, tag, models) if models else None
    if typed:
        return typed
    kind = str(problem["type"]).split("_")[0]
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    return str(problem["msg"]).removeprefix("Value error, ")


def _explain(error: ValidationError, sources: dict[tuple, str], rendered: Any) -> str:
    """The first problem as one line: field, variable, value, and what is accepted."""
    first = error.errors()[0]
    problem = {**first, "loc": _as_written(first["loc"])}
    location = tuple(part for part in problem["loc"] if not str(part).startswith("function-"))
    location, tag, models = _tagged(location)
    field = ".".join(str(part) for part in location) or "attributes"
    variable = sources.get(location)
    origin = f"{variable}={_value_at(rendered, location)!r} " if variable else ""
    return f"Invalid setting {origin}({field} in defs.yaml): {_message(problem, tag, models)}."


def _value_at(values: Any, location: tuple) -> Any:
    for part in location:
        try:
            values = values[part]
        except (KeyError, IndexError, TypeError):
            return None
    return values


def settings_from_attributes(raw: Mapping[str, Any], render: Any) -> InventorySettings:
    """Validate the component's attributes as written in YAML.

    `raw` holds the templates unrendered, so each error can name the variable a
    value came from; `render` renders them (the component's resolution context,
    whose `env` is Dagster's environment scope).
    """
    sources = _env_sources(raw)
    rendered = render(raw)
    try:
        return InventorySettings.model_validate(_without_unset(rendered, raw))
    except ValidationError as error:
        raise SettingsError(_explain(error, sources, rendered)) from None


# The component instance every entry point loads (dg, `dagster -m`, the probe, tests).
DEFS_YAML = Path(__file__).resolve().parent / "defs" / "inventory_api" / "defs.yaml"


def settings_from_yaml(path: Path = DEFS_YAML) -> InventorySettings:
    """The settings a component YAML file gives in this environment, outside Dagster.

    Renders the templates the way the component does when Dagster loads it.
    """
    if not path.is_file():
        raise SettingsError(
            f"{path} is not a file: give the defs.yaml of a component instance, e.g. {DEFS_YAML}"
        )
    document = yaml.safe_load(path.read_text()) or {}
    return settings_from_attributes(
        document.get("attributes") or {}, ResolutionContext.default().resolve_value
    )


def settings_environment() -> tuple[tuple[str, str], ...]:
    """The environment as it is now: with the defs folder's YAML, all the definitions are
    built from (each instance reads its own variables), so a process can build them once
    per distinct environment."""
    return tuple(sorted(os.environ.items()))


# Where dlt's config providers keep this source's secrets (`dlt.secrets["sources.
# inventory_api.api_key"]`): the variable SOURCES__INVENTORY_API__API_KEY, then
# .dlt/secrets.toml's [sources.inventory_api], as dlt's verified sources do.
DLT_SECRETS_SECTION = "sources.inventory_api"
DLT_SECRETS_FILE = Path(".dlt") / "secrets.toml"


def secret_from_dlt(field: str, reference: EnvReference) -> bool:
    """Whether dlt's config providers, not the variable `reference` names, hold this
    secret: the variable is unset here and dlt's name for the field is set.

    Asked where the code location loads, by names only (no dlt import, no value
    read): an unset variable with nothing in dlt stays the variable, whose absence
    the run then reports as before.
    """
    if os.environ.get(reference.env):
        return False
    if os.environ.get(f"{DLT_SECRETS_SECTION}.{field}".upper().replace(".", "__")):
        return True
    if not DLT_SECRETS_FILE.is_file():
        return False
    section = tomllib.loads(DLT_SECRETS_FILE.read_text()).get("sources", {})
    return field in section.get("inventory_api", {})


def read_reference(value: EnvReference | str) -> str | None:
    """The value an env reference names, for tools that run outside Dagster (the probe).

    Dagster's resources resolve the same references with `EnvVar` when a run executes.
    """
    return os.environ.get(value.env) if isinstance(value, EnvReference) else value


# The instance's storage (deploy/dagster.yaml reads it from this variable).
INSTANCE_POSTGRES_URL_ENV = "DAGSTER_POSTGRES_URL"
# The one driver Dagster's PostgreSQL storage works with: dagster-postgres 0.29.27 sends
# `NOTIFY run_events, :notify_id`, which psycopg 3 binds server-side and PostgreSQL refuses.
INSTANCE_POSTGRES_DRIVER = "psycopg2"
_INSTANCE_URL_FORM = "postgresql+psycopg2://user:password@host:port/database"
# RFC 3986's scheme: anything else before `://` is not shown (it may be a password).
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*$")


def instance_storage_problem() -> str | None:
    """Why DAGSTER_POSTGRES_URL cannot hold the instance, as one line; None if it can.

    With a driver other than psycopg2 the instance opens and lists its runs, then
    fails the first event of every run; refused when the code location loads, a
    wrong spelling stops before a run is created. Only the scheme is read (the rest
    holds a password), and SQLAlchemy says which driver it means, so the answer
    follows the installed SQLAlchemy (2.1 maps a bare `postgresql://` to psycopg 3).
    Unset (or empty): the instance is not in PostgreSQL, nothing to check.
    """
    url = os.environ.get(INSTANCE_POSTGRES_URL_ENV) or ""
    if not url:
        return None
    scheme, separator, _ = url.partition("://")
    if not separator or not _SCHEME.match(scheme):
        reason = "it does not start with a scheme and ://"
    else:
        driver = _driver_of(scheme)
        if driver == INSTANCE_POSTGRES_DRIVER:
            return None
        reason = (
            f"SQLAlchemy knows no scheme {scheme}"
            if driver is None
            else f"the scheme {scheme} uses the {driver} driver, which Dagster's"
            " PostgreSQL event log cannot use"
        )
    return f"Invalid {INSTANCE_POSTGRES_URL_ENV}: {reason}; write it as {_instance_url_forms()}."


def _instance_url_forms() -> str:
    """The spellings that work with the installed SQLAlchemy (the bare one only below 2.1)."""
    bare = _driver_of("postgresql") == INSTANCE_POSTGRES_DRIVER
    return f"{_INSTANCE_URL_FORM} (or postgresql://)" if bare else _INSTANCE_URL_FORM


def _driver_of(scheme: str) -> str | None:
    """The DBAPI driver SQLAlchemy picks for `scheme://`, None for a scheme it lacks.

    Asks without importing the driver (SQLAlchemy imports it only to connect), and
    imports sqlalchemy only when called: only a PostgreSQL instance needs it.
    """
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(f"{scheme}://").get_dialect().driver
    except ArgumentError:  # NoSuchModuleError too: `postgres://`, `postgresql+nope://`
        return None
