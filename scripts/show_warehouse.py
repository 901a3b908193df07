"""Print what landed: rows per UTC day, a few records, the warehouses, the low-stock items."""

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
        warehouses = con.execute(
            "select code, name, city, capacity from inventory.warehouses order by code"
        ).fetchall()
        low_stock = con.execute(
            "select inventory_id, warehouse, product_name, total_quantity"
            " from inventory.low_stock_items order by total_quantity, inventory_id limit 5"
        ).fetchall()
    out = sys.stdout
    out.write(f"\ninventory.inventory_data in {path}\n")
    for day, count in per_day:
        out.write(f"  {day}: {count} rows\n")
    out.write(f"  total: {sum(count for _, count in per_day)} rows\n\nfirst rows:\n")
    for row in sample:
        out.write("  " + " | ".join(str(value) for value in row) + "\n")
    out.write(f"\ninventory.warehouses: {len(warehouses)} rows\n")
    for row in warehouses:
        out.write("  " + " | ".join(str(value) for value in row) + "\n")
    out.write("\nlowest stock (inventory.low_stock_items):\n")
    for row in low_stock:
        out.write("  " + " | ".join(str(value) for value in row) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
