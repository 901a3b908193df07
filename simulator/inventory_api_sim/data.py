"""Deterministic inventory records and warehouses for the API simulator.

Tests, the demo and benchmarks all need the same data for the same arguments,
so every value comes from one `random.Random(seed)`. Each record costs four
draws from the generator, sliced into fields with bit masks, which is what keeps
a million rows within a few seconds in pure Python.
"""

import datetime as dt
import random

__all__ = ["generate_records", "generate_warehouses"]

# Mixed scripts on purpose: a pipeline that mangles encodings shows it at once.
_PRODUCT_NAMES = (
    "Café crème",
    "Schraube M4 – Edelstahl",
    "扳手",
    "Ölfilter",
    "Hex bolt M8",
    "Cable tie 200 mm",
    "Żarówka LED 9 W",
    "Crème brûlée mould",
    "Gummidichtung Ø 40",
    "ネジ回し",
    "Açaí powder 250 g",
    "Wood screw 4x40",
    "Safety gloves (L)",
    "Ключ гаечный 13",
    "Duct tape 50 m",
    "Piñata large",
)
_NAME_VARIANTS = ("", " – pack of 10", " (XL)", " v2", " refill")
_WAREHOUSES = ("WH-AMS", "WH-BER", "WH-NYC", "WH-SIN", "WH-SAO")
_CITIES = {
    "WH-AMS": "Amsterdam",
    "WH-BER": "Berlin",
    "WH-NYC": "New York",
    "WH-SIN": "Singapore",
    "WH-SAO": "São Paulo",
}
_SITE_KINDS = ("Distribution Centre", "Cross-dock", "Fulfilment Hub", "Cold Store", "Depot")
_NULL_CITY_SHARE = 0.2  # a vendor's master data has gaps too
_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_SECONDS_PER_DAY = 86_400
_WAREHOUSE_COUNT = len(_WAREHOUSES)
_NULL_BELOW = 5  # an 8-bit draw below 5: about a 2% chance of null
_LOW_STOCK_MASK = 0b111  # three zero bits: about one record in eight has quantity 0..10


def _inventory_pool(rng: random.Random, size: int) -> list[tuple[str, str, str, str]]:
    """Items that records share, so one inventory_id appears on several records.

    Name, sku and price belong to the item, as in a real catalogue; drawing them
    once per item rather than per record also keeps generation fast.
    """
    pool = []
    for number in range(1, size + 1):
        name = rng.choice(_PRODUCT_NAMES) + rng.choice(_NAME_VARIANTS)
        sku = f"SKU-{rng.randrange(1000, 10000)}-{rng.choice(_LETTERS)}{rng.choice(_LETTERS)}"
        cents = rng.randrange(50, 100_000)
        pool.append((f"INV-{number:05d}", name, sku, f"{cents // 100}.{cents % 100:02d}"))
    return pool


def generate_records(rows: int, days: int, start: dt.date, seed: int) -> list[dict]:
    """Return `rows` records with ids 1..rows, updated within `days` days from `start`.

    `updated_at` is uniform over [start 00:00:00Z, start + days). The same
    arguments always give the same records, in id order.
    """
    if rows < 0:
        raise ValueError("rows must be >= 0")
    if days < 1:
        raise ValueError("days must be >= 1")
    rng = random.Random(seed)
    pool = _inventory_pool(rng, rows // 4 + 1)
    pool_size = len(pool)
    window_seconds = days * _SECONDS_PER_DAY
    day_prefixes = [(start + dt.timedelta(days=d)).isoformat() + "T" for d in range(days)]
    clock = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}Z" for s in range(_SECONDS_PER_DAY)]
    records = []
    append = records.append
    uniform = rng.random
    draw = rng.getrandbits
    for record_id in range(1, rows + 1):
        second = int(uniform() * window_seconds)
        inventory_id, name, sku, price = pool[int(uniform() * pool_size)]
        stock = draw(30)
        if stock & _LOW_STOCK_MASK:
            quantity = ((stock >> 3) & 0xFFFF) % 501
        else:
            quantity = ((stock >> 3) & 0xFFFF) % 11
        nulls = draw(32)
        append(
            {
                "id": record_id,
                "inventory_id": inventory_id,
                "product_name": None if nulls & 0xFF < _NULL_BELOW else name,
                "sku": None if (nulls >> 8) & 0xFF < _NULL_BELOW else sku,
                "quantity": quantity,
                "unit_price": None if (nulls >> 16) & 0xFF < _NULL_BELOW else price,
                "warehouse": (
                    None
                    if nulls >> 24 < _NULL_BELOW
                    else _WAREHOUSES[(stock >> 19) % _WAREHOUSE_COUNT]
                ),
                "updated_at": day_prefixes[second // _SECONDS_PER_DAY]
                + clock[second % _SECONDS_PER_DAY],
            }
        )
    return records


def generate_warehouses(records: list[dict], days: int, start: dt.date, seed: int) -> list[dict]:
    """One warehouse per distinct `warehouse` code of these records, in code order.

    The codes come from the records, so the two listings join without orphans.
    The other fields come from a generator of their own, so the warehouses never
    shift the records; `updated_at` is a whole second within the records' days.
    """
    codes = sorted({record["warehouse"] for record in records if record["warehouse"] is not None})
    rng = random.Random(f"warehouses:{seed}")
    midnight = dt.datetime.combine(start, dt.time())
    warehouses = []
    for code in codes:
        city = _CITIES.get(code)
        moment = midnight + dt.timedelta(seconds=rng.randrange(days * _SECONDS_PER_DAY))
        warehouses.append(
            {
                "code": code,
                "name": f"{city or code} {rng.choice(_SITE_KINDS)}",
                "city": None if rng.random() < _NULL_CITY_SHARE else city,
                "capacity": rng.randrange(1_000, 250_001, 50),
                "updated_at": moment.isoformat() + "Z",
            }
        )
    return warehouses
