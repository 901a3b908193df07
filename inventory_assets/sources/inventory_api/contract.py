"""The inventory API contract (docs/inventory-api.md) as data: what a vendor serves and how.

`Endpoint` describes one listing (path, key, declared columns, how it pages);
`ApiOptions` how the vendor authenticates, windows and fails; `Credentials`
its secrets. The defaults are the contract's; a deployment changes them in
configuration (the Dagster layer builds all three from its settings), never here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRY_DELAY_SECONDS = 60.0
# The soft-delete column of an endpoint whose deletes are flagged: when the vendor
# stopped listing the record.
DELETED_COLUMN = "_vendor_deleted_at"
# A guard against an API that never stops sending full pages.
MAXIMUM_OFFSET = 10_000_000

# dlt's schema contract for every table, stated rather than left to defaults: new
# vendor fields become columns (the contract allows fields at any time), and a
# field that changes type goes to a variant column instead of failing the load.
# Neither is silent: the `schema_drift` check names both. Declared columns never
# change type: records that break their type are set aside before dlt sees them.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "evolve"}


@dataclass(frozen=True)
class Column:
    """A declared column: its warehouse type and whether a record may leave it null."""

    name: str
    type: str  # bigint, text, decimal, timestamp, bool, double
    nullable: bool = True
    precision: int | None = None
    scale: int | None = None
    description: str = ""

    def dlt_hint(self) -> dict[str, Any]:
        hint: dict[str, Any] = {"data_type": self.type, "nullable": self.nullable}
        if self.type == "decimal":
            hint |= {"precision": self.precision, "scale": self.scale}
        if self.type == "timestamp":
            hint["timezone"] = True
        if self.description:
            hint["description"] = self.description
        return hint


Fields = tuple[tuple[str, Any], ...]  # a mapping, frozen: (name, value) pairs


@dataclass(frozen=True)
class Paginator:
    """How the vendor pages a listing, in dlt's rest_api vocabulary.

    `type` is one of PAGINATOR_TYPES and `fields` the fields dlt's paginator of
    that type takes (`limit`, `page_param`, `cursor_path`, `next_url_path`, ...).
    `total_path` says where a page announces how many records match, which the
    load holds the pages to: dlt's own `total_path` for `offset`, and the same
    idea for `cursor`, `json_link` and `header_link`, whose dlt paginators have
    none. For `page_number`, dlt's `total_path` counts pages; it stays in `fields`.
    """

    type: str
    fields: Fields
    total_path: str | None

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.fields).get(name, default)

    @property
    def page_size(self) -> int | None:
        """Records asked for per page, where the paginator says (offset's `limit`)."""
        return self.option("limit") if self.type == "offset" else None

    @property
    def seeks(self) -> bool:
        """Whether a page can be asked for at any record (offset paging): the cheap way to
        read a listing's tail, which the sensors' signatures need."""
        return self.type == "offset"


PAGINATOR_TYPES = ("offset", "page_number", "cursor", "json_link", "header_link", "single_page")


@dataclass(frozen=True)
class Endpoint:
    """One listing of the vendor, loaded into the table of the same name, merged on its key.

    No field has a default: an endpoint is declared in the code location's defs.yaml,
    and the settings layer (inventory_assets/settings.py) holds every default, once.
    """

    name: str
    path: str
    primary_key: str
    columns: tuple[Column, ...]
    # Where a page holds its records: a dotted path (`data`, `result.items`), `$` for a
    # page that is a bare list.
    data_selector: str
    # Places a record in a time window; two records with one key keep the latest.
    cursor_field: str
    paginator: Paginator
    params: Fields  # static query parameters of every request (`per_page: 100`)
    # Who keeps records to a window: `window`, the vendor (the window is sent, and a record
    # outside it fails the load); `client_window`, this source (the whole listing is paged
    # and filtered); `full`, nobody (the whole listing is loaded at once).
    sync_mode: str
    # What a whole listing does with rows the vendor no longer lists: keep, flag or delete.
    deletes: str
    # Columns whose negative values make downstream sums wrong (a blocking check each).
    not_negative: tuple[str, ...]

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    def dlt_columns(self) -> dict[str, dict[str, Any]]:
        """Column hints: every column exists with its declared type, even when all null."""
        hints = {column.name: column.dlt_hint() for column in self.columns}
        hints[self.primary_key]["primary_key"] = True
        if self.cursor_field in hints:
            hints[self.cursor_field]["dedup_sort"] = "desc"
        return hints


AUTH_TYPES = ("api_key", "bearer", "http_basic", "oauth2_client_credentials")


@dataclass(frozen=True)
class Auth:
    """How the vendor takes its credentials, in dlt's rest_api vocabulary, without them.

    `api_key` sends the key as the query parameter, header or cookie `name`
    (`location`), after `prefix` (for `Authorization: Token <key>`, say); `bearer`
    sends a token; `http_basic` a username and password;
    `oauth2_client_credentials` trades a client id and secret for an access token
    at `access_token_url`. The secrets come apart, as `Credentials`, where a run
    executes.
    """

    type: str = "api_key"
    name: str = "api_key"
    location: str = "query"
    prefix: str = ""
    access_token_url: str | None = None
    access_token_request_data: Fields = ()
    default_token_expiration: int = 3600


# The secrets each auth type needs (Credentials' fields of those names).
REQUIRED_SECRETS = {
    "api_key": ("api_key",),
    "bearer": ("token",),
    "http_basic": ("username", "password"),
    "oauth2_client_credentials": ("client_id", "client_secret"),
}
SECRET_FIELDS = ("api_key", "token", "username", "password", "client_id", "client_secret")


@dataclass(frozen=True, repr=False)
class Credentials:
    """The vendor's secrets, as resolved where a run executes; never shown in a repr."""

    api_key: str | None = None
    token: str | None = None
    username: str | None = None
    password: str | None = None
    client_id: str | None = None
    client_secret: str | None = None

    def __repr__(self) -> str:
        return "Credentials(***)"

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never leave through a log, an error or a file."""
        values = (self.api_key, self.token, self.password, self.client_secret)
        return tuple(value for value in values if value)


@dataclass(frozen=True)
class ApiOptions:
    """How the vendor's API is called: auth, windows, retries."""

    auth: Auth = Auth()
    window_start_param: str = "updated_since"
    window_end_param: str = "updated_before"
    max_retries: int = 3
    backoff_factor: float = 2.0
    request_timeout_seconds: float = 30.0
    # Most requests this process sends the vendor in any second; None: no limit.
    max_requests_per_second: float | None = None
