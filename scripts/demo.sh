#!/usr/bin/env bash
# The demo, end to end on the embedded default: starts the API simulator, loads
# three daily partitions into DuckDB with `dagster asset materialize`, refreshes
# the downstream tables, and prints what landed. Run it with `make demo`, which sets it up
# and sets the environment docs/daily-use.md describes (a quiet Dagster CLI included).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin
export INVENTORY_API_KEY="${INVENTORY_API_KEY:-demo-key-$(date +%s)-$RANDOM}"
# A file of the demo's own: the daily use (docs/daily-use.md) loads another simulator's data.
export INVENTORY_DUCKDB_PATH="${INVENTORY_DUCKDB_PATH:-data/demo.duckdb}"
export INVENTORY_PARTITIONS_START="${INVENTORY_PARTITIONS_START:-2026-11-01}"
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/.dagster_home}"
mkdir -p "$DAGSTER_HOME" "$(dirname "$INVENTORY_DUCKDB_PATH")"
# A quiet local instance: no usage telemetry from a demo.
[ -f "$DAGSTER_HOME/dagster.yaml" ] || printf 'telemetry:\n  enabled: false\n' >"$DAGSTER_HOME/dagster.yaml"

sim_log=$(mktemp)
"$PY/inventory-api-sim" --port 0 --rows 3000 --start 2026-11-01 --through today >"$sim_log" 2>&1 &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true; rm -f "$sim_log"' EXIT

for _ in $(seq 50); do
  grep -q "listening on" "$sim_log" && break
  sleep 0.1
done
INVENTORY_API_BASE_URL=$(grep -o 'http://[^ ]*' "$sim_log" | head -1)
if [ -z "$INVENTORY_API_BASE_URL" ]; then
  echo "the simulator did not start:" >&2
  cat "$sim_log" >&2
  exit 1
fi
export INVENTORY_API_BASE_URL
echo "simulator: $INVENTORY_API_BASE_URL"

# Today's partition first: the one the partition freshness check asks for after 02:00
# UTC, so that check passes in every run that follows. Then three daily partitions in
# one run (quality checks run with them), the vendor's warehouses (a second endpoint,
# loaded whole), then the downstream stock levels and low-stock report.
"$PY/dagster" asset materialize -m inventory_assets.definitions \
  --select inventory/inventory_data --partition "$(date -u +%F)"
"$PY/dagster" asset materialize -m inventory_assets.definitions \
  --select inventory/inventory_data --partition-range '2026-11-02...2026-11-04'
"$PY/dagster" asset materialize -m inventory_assets.definitions --select inventory/warehouses
"$PY/dagster" asset materialize -m inventory_assets.definitions \
  --select 'inventory/stock_levels,inventory/low_stock_items'

"$PY/python" scripts/show_warehouse.py "$INVENTORY_DUCKDB_PATH"
