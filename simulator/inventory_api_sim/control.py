"""Control endpoints: change a running simulator from another process.

Sensors, end-to-end tests and the demo run the simulator as a subprocess, where
`InventoryApiSimulator.touch_random` is out of reach; these endpoints expose it
over HTTP. They are not part of the vendor contract (docs/inventory-api.md), so
they answer loopback clients only, need no api key and are not counted as API
requests. This module only parses and routes; the simulator does the work.

    POST /_control/touch?count=N[&day=YYYY-MM-DD][&at=ISO8601][&quantity=Q]
    POST /_control/add_field?name=NAME&value=JSON   (a value that is not JSON is text)
    POST /_control/retype?field=NAME&to=text|number
    POST /_control/delete?count=N[&day=YYYY-MM-DD]  or  ?ids=1,2,3
    POST /_control/deviate?name=SWITCH&value=VALUE  (true/false, a number or none, a,b,
                                                     a style, a header name, a URL or none)
    GET  /_control/state
"""

import ipaddress
import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

from inventory_api_sim.deviations import Deviations, parse_switch
from inventory_api_sim.params import first_values, int_param
from inventory_api_sim.responses import Response, error
from inventory_api_sim.touches import MAX_QUANTITY, MAX_TOUCH_COUNT

__all__ = ["CONTROL_PREFIX", "handle", "is_control_path"]

CONTROL_PREFIX = "/_control/"
# Parameters a client may send without meaning anything: generic API clients add the key.
_IGNORED_PARAMS = frozenset({"api_key"})


class ControlTarget(Protocol):
    """What the endpoints need from the simulator; keeps this module free of server imports."""

    def touch_random(
        self,
        count: int = 1,
        at: Any = None,
        day: Any = None,
        quantity: int | None = None,
    ) -> list[dict]: ...

    def add_field(self, name: str, value: Any) -> None: ...

    def retype_field(self, name: str, to: str) -> None: ...

    def delete(self, ids: list[int]) -> list[dict]: ...

    def delete_random(self, count: int = 1, day: Any = None) -> list[dict]: ...

    def deviate(self, **switches: Any) -> Deviations: ...

    def state(self) -> dict[str, Any]: ...


def _ok(payload: dict[str, Any]) -> Response:
    return Response(200, json.dumps(payload).encode())


def is_control_path(target: str) -> bool:
    """True for request targets the control endpoints answer (any method)."""
    return urlsplit(target).path.startswith(CONTROL_PREFIX)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and IPv4-mapped loopback; anything unparsable is not."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _touch(simulator: ControlTarget, params: dict[str, str]) -> Response:
    touched = simulator.touch_random(
        int_param(params, "count", 1, 1, MAX_TOUCH_COUNT),
        at=params.get("at"),
        day=params.get("day"),
        quantity=int_param(params, "quantity", None, 0, MAX_QUANTITY),
    )
    return _ok({"touched": touched})


def _required(params: dict[str, str], name: str) -> str:
    if not params.get(name):
        raise ValueError(f"{name} is required")
    return params[name]


def _json_or_text(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text


def _add_field(simulator: ControlTarget, params: dict[str, str]) -> Response:
    name = _required(params, "name")
    simulator.add_field(name, _json_or_text(params.get("value", "null")))
    return _ok({"added": name})


def _retype(simulator: ControlTarget, params: dict[str, str]) -> Response:
    field = _required(params, "field")
    simulator.retype_field(field, _required(params, "to"))
    return _ok({"retyped": field, "to": params["to"]})


def _id_list(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise ValueError("ids must be integers separated by commas, e.g. 1,2,3") from None


def _delete(simulator: ControlTarget, params: dict[str, str]) -> Response:
    """Delete the ids given, else `count` random records (of `day`, if given)."""
    if "ids" not in params:
        count = int_param(params, "count", 1, 1, MAX_TOUCH_COUNT)
        return _ok({"deleted": simulator.delete_random(count, day=params.get("day"))})
    if "count" in params or "day" in params:
        raise ValueError("ids cannot be combined with count or day")
    try:
        return _ok({"deleted": simulator.delete(_id_list(params["ids"]))})
    except KeyError:
        raise ValueError("ids must name records that exist; nothing was deleted") from None


def _deviate(simulator: ControlTarget, params: dict[str, str]) -> Response:
    name = _required(params, "name")
    value = parse_switch(name, params.get("value", ""))
    return _ok({"deviations": simulator.deviate(**{name: value}).as_json()})


def _state(simulator: ControlTarget, params: dict[str, str]) -> Response:
    return _ok(simulator.state())


_Action = Callable[[ControlTarget, dict[str, str]], Response]
# path -> (method, accepted parameters, action)
_ROUTES: dict[str, tuple[str, frozenset[str], _Action]] = {
    CONTROL_PREFIX + "touch": ("POST", frozenset({"count", "day", "at", "quantity"}), _touch),
    CONTROL_PREFIX + "add_field": ("POST", frozenset({"name", "value"}), _add_field),
    CONTROL_PREFIX + "retype": ("POST", frozenset({"field", "to"}), _retype),
    CONTROL_PREFIX + "delete": ("POST", frozenset({"count", "day", "ids"}), _delete),
    CONTROL_PREFIX + "deviate": ("POST", frozenset({"name", "value"}), _deviate),
    CONTROL_PREFIX + "state": ("GET", frozenset(), _state),
}


def handle(simulator: ControlTarget, method: str, target: str, client_host: str) -> Response:
    """Answer one control request; the caller has already read any request body.

    Order: loopback (403 even for unknown paths, so nothing is revealed to
    other hosts), path (404), method (405), parameters (400). Unknown
    parameters are rejected so a typo such as `cout=5` does not silently touch one.
    """
    if not is_loopback(client_host):
        return error(403, "control endpoints answer loopback clients only")
    parts = urlsplit(target)
    route = _ROUTES.get(parts.path)
    if route is None:
        return error(404, "unknown control endpoint")
    allowed_method, accepted, action = route
    if method != allowed_method:
        return error(405, "method not allowed", (("Allow", allowed_method),))
    params = first_values(parts.query)
    if set(params) - accepted - _IGNORED_PARAMS:
        # Names are not echoed either: a pasted secret can end up as a name.
        expected = ", ".join(sorted(accepted)) or "none"
        return error(400, f"unknown parameter; this endpoint accepts: {expected}")
    try:
        return action(simulator, params)
    except ValueError as exc:  # messages name the parameter, never echo it (BadRequest too)
        return error(400, str(exc))
