"""SimulatorConfig: everything that shapes one simulated API, fixed for its lifetime."""

import datetime as dt
from dataclasses import dataclass, field

from inventory_api_sim.deviations import CONTRACT_WINDOW_PARAMS, Deviations

__all__ = ["SimulatorConfig"]


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything that shapes one simulated API; the defaults suit the tests."""

    host: str = "127.0.0.1"
    port: int = 0  # 0 lets the OS pick a free port, so parallel tests never collide
    rows: int = 1000
    days: int = 30
    start: dt.date = dt.date(2026, 11, 1)
    seed: int = 42
    latency_ms: float = 0.0
    fault_rate: float = 0.0
    api_key: str = field(default="sim-secret-key", repr=False)  # never in a repr or a log
    retry_after_seconds: int = 0
    # Hostile on purpose: error bodies quote the request target, api key and all,
    # as some real gateways do, so client tests can prove they mask server messages.
    echo_url_in_errors: bool = False
    # How the vendor departs from the contract at start (deviations.py); the
    # defaults are the contract. InventoryApiSimulator.deviate changes them later.
    ignore_window: bool = False
    window_params: tuple[str, str] = CONTRACT_WINDOW_PARAMS
    omit_total: bool = False
    total_ignores_window: bool = False
    page_cap: int | None = None
    null_when_empty: bool = False
    numbers_as_strings: bool = False
    integers_as_floats: bool = False
    rate_limit_headers: bool = False
    quota_per_second: int | None = None
    moves_while_paging: int = 0
    paging: str = "offset"
    next_url_base: str | None = None
    auth: str = "query"
    auth_header: str = "X-API-Key"
    # The other credentials of the auth styles, fixed like the key: the basic
    # style's user name (its password is the key), and the oauth2 style's client
    # id (its client secret is the key) and the lifetime of the tokens it issues.
    basic_username: str = "sim-user"
    oauth_client_id: str = "sim-client"
    token_expires_seconds: int = 3600

    def __post_init__(self) -> None:
        if not 0.0 <= self.fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        if self.latency_ms < 0 or self.retry_after_seconds < 0 or self.rows < 0:
            raise ValueError("latency_ms, retry_after_seconds and rows must be >= 0")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.days < 1:
            raise ValueError("days must be >= 1")
        if not self.api_key:
            raise ValueError("api_key must not be empty")
        if not self.basic_username or ":" in self.basic_username:
            raise ValueError("basic_username must be non-empty and without a colon")
        if not self.oauth_client_id:
            raise ValueError("oauth_client_id must not be empty")
        if type(self.token_expires_seconds) is not int or self.token_expires_seconds < 1:
            raise ValueError("token_expires_seconds must be an integer >= 1")
        Deviations.from_config(self)  # the same checks as when they change at run time
