"""Print what landed in the inventory table: rows per UTC day and a few samples."""

import sys

import duckdb


def main(path: str) -> None:
    with duckdb.connect(path, read_only=True) as con:
        per_day = con.execute(
            "select cast(updated_at at time zone 'UTC' as date) as day, count(*) as row_count"
            " from inventory.inventory_data group by day order by day"
        ).fetchall()
        sample = con.execute(
            "select id, inventory_id, product_name, quantity, unit_price, warehouse, updated_at"
            " from inventory.inventory_data order by updated_at limit 5"
        ).fetchall()
    out = sys.stdout
    out.write(f"\ninventory.inventory_data in {path}\n")
    for day, count in per_day:
        out.write(f"  {day}: {count} rows\n")
    out.write(f"  total: {sum(count for _, count in per_day)} rows\n\nfirst rows:\n")
    for row in sample:
        out.write("  " + " | ".join(str(value) for value in row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
