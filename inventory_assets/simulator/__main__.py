"""Lets `python -m inventory_assets.simulator` run the same CLI as `inventory-api-sim`."""

from inventory_assets.simulator.cli import main

if __name__ == "__main__":
    main()
