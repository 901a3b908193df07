"""Lets `python -m inventory_api_sim` run the same CLI as `inventory-api-sim`."""

from inventory_api_sim.cli import main

if __name__ == "__main__":
    main()
