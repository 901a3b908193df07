"""A stand-in for the third-party inventory API, for the demo, tests and benchmarks."""

from inventory_assets.simulator.config import SimulatorConfig
from inventory_assets.simulator.data import generate_records
from inventory_assets.simulator.server import InventoryApiSimulator

__all__ = ["InventoryApiSimulator", "SimulatorConfig", "generate_records"]
