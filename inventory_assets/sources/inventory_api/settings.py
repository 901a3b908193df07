"""Constants of the inventory API contract (docs/inventory-api.md).

Everything a real deployment may need to change is a parameter of
`inventory_source`; these are the contract's defaults and the column hints.
"""

from dlt.common.schema.typing import TTableSchemaColumns

RESOURCE_NAME = "inventory_data"
ENDPOINT_PATH = "/v1/resource"
DATA_SELECTOR = "data"
TOTAL_PATH = "total"
PAGE_SIZE = 100

API_KEY_PARAM = "api_key"
WINDOW_START_PARAM = "updated_since"
WINDOW_END_PARAM = "updated_before"

RETRY_STATUSES = (429, 500, 502, 503, 504)
MAX_RETRIES = 3
BACKOFF_FACTOR = 2.0
MAX_RETRY_DELAY_SECONDS = 60.0
REQUEST_TIMEOUT_SECONDS = 30.0

# A guard against an API that never stops sending full pages.
MAXIMUM_OFFSET = 10_000_000

# Declared so every column exists with its contract type even when a load has
# only nulls in it, and so strings such as "12.30" land as exact decimals.
COLUMNS: TTableSchemaColumns = {
    "id": {"data_type": "bigint", "nullable": False, "primary_key": True},
    "inventory_id": {"data_type": "text", "nullable": False},
    "product_name": {"data_type": "text", "nullable": True},
    "sku": {"data_type": "text", "nullable": True},
    "quantity": {"data_type": "bigint", "nullable": False},
    "unit_price": {"data_type": "decimal", "precision": 18, "scale": 4, "nullable": True},
    "warehouse": {"data_type": "text", "nullable": True},
    # Two records with one id in a window: the merge keeps the latest state.
    "updated_at": {
        "data_type": "timestamp",
        "timezone": True,
        "nullable": False,
        "dedup_sort": "desc",
    },
}

# dlt's schema contract for the table, stated rather than left to defaults: new
# vendor fields become columns (the contract allows fields at any time), and a
# field that changes type goes to a variant column instead of failing the load.
# Neither is silent: the `schema_drift` check names both. Declared columns never
# change type: records that break their type are set aside before dlt sees them.
SCHEMA_CONTRACT = {"tables": "evolve", "columns": "evolve", "data_type": "evolve"}
