"""Downstream assets computed in the warehouse from the endpoint `marts_from` names.

The component builds them for its configured upstream (defs.yaml's `group` and
`marts_from`, `inventory/inventory_data` as shipped): `<group>/stock_levels` and
`<group>/low_stock_items`, in its group, so a renamed group or endpoint keeps
downstream and the automation sensor working.

The SQL runs inside the warehouse (DuckDB or PostgreSQL, SQL both speak)
through the destination resource, so no copy of the data passes through Python.
Their kinds name no database: definitions.py adds the configured warehouse's.
The warehouse resource (`<group>_destination`) is the upstream's component instance's.
Both assets are refreshed automatically after `inventory_data` updates, but only
while its quality and freshness checks pass.
"""

from dataclasses import dataclass

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    AssetSelection,
    AutomationCondition,
    Config,
    MaterializeResult,
    MetadataValue,
    asset,
    define_asset_job,
)
from pydantic import Field

from inventory_assets.defs.inventory_api.endpoint_spec import EndpointSpec
from inventory_assets.defs.inventory_api.jobs import AssetJob
from inventory_assets.defs.inventory_api.reports import bar_chart_png, embedded_png, markdown_table
from inventory_assets.sources.inventory_api.contract import DELETED_COLUMN
from inventory_assets.warehouse.destination import DestinationResource, WarehouseConnection

PREVIEW_ROWS = 10

# Refresh after an upstream update (eager), but only while every check of every
# upstream asset - quality and partition freshness - has passed against its
# latest materialization, and no upstream FreshnessPolicy has failed. While one
# has not, the evaluation shows this labelled sub-condition as false in the UI,
# so a blocked refresh is visible, not silent. Eager's "no missing deps" is
# dropped: a daily asset always has partitions nobody loads (before the data
# starts), and the checks already prove the loaded ones good.
upstream_is_good = AutomationCondition.all_deps_match(
    AutomationCondition.all_checks_match(AutomationCondition.check_passed(), blocking_only=False)
    & ~AutomationCondition.freshness_failed()
).with_label("upstream checks passed and upstream not stale")
refresh_when_upstream_is_good = (
    AutomationCondition.eager().without(~AutomationCondition.any_deps_missing()) & upstream_is_good
)

# The latest name per item: `(array_agg(... order by ...))[1]`, as PostgreSQL has no arg_max.
STOCK_LEVELS_SQL = """
create table {target} as
select
    inventory_id,
    warehouse,
    (array_agg(product_name order by {cursor} desc, {key} desc))[1] as product_name,
    cast(sum(quantity) as bigint) as total_quantity,
    cast(sum(quantity * unit_price) as decimal(38, 4)) as total_value,
    count(*) as records,
    count(*) filter (where unit_price is null) as unpriced_records,
    max({cursor}) as last_updated_at
from {source}
{live}
group by inventory_id, warehouse
"""

LOW_STOCK_SQL = """
create table {target} as
select inventory_id, warehouse, product_name, total_quantity, total_value, last_updated_at
from {source}
where total_quantity <= {threshold}
"""


class LowStockConfig(Config):
    """Run config of `inventory/low_stock_items`."""

    reorder_threshold: int = Field(
        default=10, ge=0, description="Items with this many units or fewer need reordering"
    )


# How to tell, in the UI, whether the numbers above can be trusted.
TRUST_NOTE = """**Can these numbers be trusted?** Open `inventory/inventory_data` -> *Checks*.
`rows_match_api` compares each loaded day with the API's count: *more in the warehouse*
means records moved to later days (its metadata `later_days_to_load` names the partitions
to load), *fewer* means missing rows (`missing_ids`, and the partition to re-run).
`schema_drift` names vendor columns added (`columns_added`) or sent as another type
(`type_changes`). This report is refreshed only while the blocking checks pass."""


def _rebuild(con: WarehouseConnection, target: str, create_sql: str) -> None:
    """Replace `target` with what `create_sql` builds, in the connection's transaction,
    so readers see the old table or the new one, never none."""
    con.execute(f"drop table if exists {target}")
    con.execute(create_sql)


def _live_rows(destination: DestinationResource, con: WarehouseConnection, table: str) -> str:
    """The filter that leaves out rows the vendor deleted, where deletes are flagged.

    With `deletes: flag` a deleted record stays, stamped in `_vendor_deleted_at`;
    it is stock no more. (`delete` removes the row, `keep` keeps counting it.)
    The column's presence decides, so a table once loaded with `flag` stays right.
    """
    if DELETED_COLUMN in destination.columns(con, table):
        return f"where {DELETED_COLUMN} is null"
    return ""


def _preview(con: WarehouseConnection, table: str, order_by: str) -> tuple[int, str]:
    """Row count and a markdown preview of the first rows in `order_by` order."""
    (row_count,) = con.fetchone(f"select count(*) from {table}")
    cursor = con.execute(f"select * from {table} order by {order_by} limit {PREVIEW_ROWS}")
    columns = [column[0] for column in cursor.description]
    return row_count, markdown_table(columns, cursor.fetchall())


@dataclass(frozen=True)
class Marts:
    """The marts of one upstream endpoint, and the job that refreshes them."""

    stock_levels: AssetsDefinition
    low_stock_items: AssetsDefinition
    refresh_job: AssetJob

    @property
    def assets(self) -> list[AssetsDefinition]:
        return [self.stock_levels, self.low_stock_items]


def build_marts(upstream_spec: EndpointSpec) -> Marts:
    """`<group>/stock_levels` and `<group>/low_stock_items` over the table of the upstream
    endpoint, in its instance's group and dataset."""
    group, upstream = upstream_spec.group, upstream_spec.endpoint
    stock_levels_key = AssetKey([group, "stock_levels"])
    low_stock_key = AssetKey([group, "low_stock_items"])

    @asset(
        key=stock_levels_key,
        deps=[upstream_spec.key],
        group_name=group,
        kinds={"sql"},
        automation_condition=refresh_when_upstream_is_good,
        description=(
            "Current stock per inventory_id and warehouse: total units and exact value"
            " (quantity * unit_price), from the merged latest state of every record the"
            " vendor still lists (flagged deletes are left out)."
        ),
    )
    @upstream_spec.resources.injected
    def stock_levels(
        context: AssetExecutionContext, destination: DestinationResource
    ) -> MaterializeResult:
        target = destination.table("stock_levels")
        with destination.connect(publish=True) as con:
            live = _live_rows(destination, con, upstream.name)
            sql = STOCK_LEVELS_SQL.format(
                target=target,
                source=destination.table(upstream.name),
                live=live,
                key=upstream.primary_key,
                cursor=upstream.cursor_field,
            )
            _rebuild(con, target, sql)
            row_count, preview = _preview(con, target, "total_value desc nulls last, inventory_id")
        context.log.info(f"stock_levels: {row_count} rows")
        return MaterializeResult(
            metadata={
                "dagster/row_count": MetadataValue.int(row_count),
                "preview": MetadataValue.md(preview),
            }
        )

    @asset(
        key=low_stock_key,
        deps=[stock_levels_key],
        group_name=group,
        kinds={"sql"},
        automation_condition=refresh_when_upstream_is_good,
        description="Items at or below the reorder threshold, with a report of the worst ones.",
    )
    @upstream_spec.resources.injected
    def low_stock_items(
        context: AssetExecutionContext, config: LowStockConfig, destination: DestinationResource
    ) -> MaterializeResult:
        return _low_stock_report(context, config, destination)

    refresh_job = define_asset_job(
        name=f"{group}_refresh_job",
        description="Recompute stock levels and the low-stock report from the warehouse.",
        selection=AssetSelection.assets(stock_levels_key, low_stock_key),
    )
    return Marts(stock_levels, low_stock_items, refresh_job)


def _low_stock_report(
    context: AssetExecutionContext, config: LowStockConfig, destination: DestinationResource
) -> MaterializeResult:
    """Rebuild the low-stock table from stock_levels, with its chart and worst items."""
    target = destination.table("low_stock_items")
    with destination.connect(publish=True) as con:
        _rebuild(
            con,
            target,
            LOW_STOCK_SQL.format(
                target=target,
                source=destination.table("stock_levels"),
                threshold=int(config.reorder_threshold),
            ),
        )
        row_count, worst = _preview(con, target, "total_quantity, inventory_id, warehouse")
        by_warehouse = con.fetchall(
            f"select coalesce(warehouse, '(none)'), count(*) from {target} group by 1 order by 1"
        )
    chart = bar_chart_png(
        f"Items at or below {config.reorder_threshold} units",
        [str(name) for name, _ in by_warehouse],
        [count for _, count in by_warehouse],
        ylabel="items",
    )
    report = (
        f"**{row_count} items** at or below **{config.reorder_threshold}** units.\n\n"
        f"{embedded_png(chart, 'Low-stock items by warehouse')}\n\n"
        f"Worst {min(row_count, PREVIEW_ROWS)}:\n\n{worst}\n\n{TRUST_NOTE}"
    )
    context.log.info(f"low_stock_items: {row_count} items at or below {config.reorder_threshold}")
    return MaterializeResult(
        metadata={
            "dagster/row_count": MetadataValue.int(row_count),
            "reorder_threshold": MetadataValue.int(config.reorder_threshold),
            "report": MetadataValue.md(report),
            "by_warehouse": MetadataValue.json(dict(by_warehouse)),
        }
    )
