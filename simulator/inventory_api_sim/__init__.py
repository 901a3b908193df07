"""A stand-in for the third-party inventory API, for the demo, tests and benchmarks."""

from inventory_api_sim.config import SimulatorConfig
from inventory_api_sim.data import generate_records, generate_warehouses
from inventory_api_sim.server import InventoryApiSimulator
from inventory_api_sim.sink import RecordingServer

__all__ = [
    "InventoryApiSimulator",
    "RecordingServer",
    "SimulatorConfig",
    "generate_records",
    "generate_warehouses",
]
