"""The API simulator as the harness runs it: in this process, counting requests in flight.

The simulator runs in a thread of the harness while each measurement runs in a
child process, so the server's CPU and memory are never charged to the client,
and the harness holds no GIL while it waits for the child. The in-flight gauge
wraps `InventoryApiSimulator.respond` in a subclass, leaving the simulator
package untouched; `respond` includes the simulated latency, so concurrent
clients overlap inside it exactly as they would at a real server.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

import requests

from benchmarks.settings import SEED
from inventory_api_sim import InventoryApiSimulator, SimulatorConfig
from inventory_api_sim.responses import Response


class InFlightGauge:
    """Thread-safe count of calls in progress and the highest count since the last reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._now = 0
        self._peak = 0

    def __enter__(self) -> None:
        with self._lock:
            self._now += 1
            self._peak = max(self._peak, self._now)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        with self._lock:
            self._now -= 1

    @property
    def peak(self) -> int:
        return self._peak

    def reset(self) -> None:
        with self._lock:
            self._peak = self._now


class CountingSimulator(InventoryApiSimulator):
    """The simulator, counting how many resource requests it answers at once."""

    def __init__(self, config: SimulatorConfig) -> None:
        super().__init__(config)
        self.in_flight = InFlightGauge()

    def respond(self, target: str) -> Response:
        with self.in_flight:
            return super().respond(target)

    def reset_counters(self) -> None:
        """Zero the request count and the in-flight peak before a measurement."""
        self.reset_stats()
        self.in_flight.reset()


@contextmanager
def serve(
    rows: int, days: int, start: dt.date, api_key: str, latency_ms: float = 0.0
) -> Iterator[CountingSimulator]:
    """A started simulator on a free loopback port, stopped afterwards."""
    config = SimulatorConfig(
        rows=rows, days=days, start=start, seed=SEED, latency_ms=latency_ms, api_key=api_key
    )
    simulator = CountingSimulator(config)
    simulator.start()
    try:
        yield simulator
    finally:
        simulator.stop()


def window_total(simulator: CountingSimulator, api_key: str, window: tuple[str, str]) -> int:
    """How many records the API holds for the window: what every variant must deliver."""
    params = {
        "api_key": api_key,
        "offset": 0,
        "limit": 1,
        "updated_since": window[0],
        "updated_before": window[1],
    }
    response = requests.get(f"{simulator.url}/v1/resource", params=params, timeout=30)
    response.raise_for_status()
    simulator.reset_counters()
    return int(response.json()["total"])
