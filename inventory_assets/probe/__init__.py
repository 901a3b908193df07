"""The vendor probe: how a vendor's API authenticates, pages and windows, in a few requests.

`behaviour.py` asks the questions, `shape.py` recognizes a paging style from
one page, `report.py` holds the findings and the settings they call for; the
console script `inventory-api-probe` (`cli.py`) prints the report and the
Dagster job `inventory_api_probe_job` (`job.py`) shows it in the UI. No
Dagster definitions are made on import.
"""
