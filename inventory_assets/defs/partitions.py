"""The daily partitions every inventory asset shares.

Partitions are UTC days, so a partition is a fixed window of the vendor's
`updated_at` regardless of where Dagster runs. `end_offset=1` makes today's
partition exist while the day is still running: the change sensor refreshes it
as the vendor's records change, and the daily schedule finalizes it after
midnight.
"""

from dagster import DailyPartitionsDefinition, EnvVar

DEFAULT_PARTITIONS_START = "2026-01-01"

# Read once at definition time: the partition set is part of the asset's identity.
daily_partitions = DailyPartitionsDefinition(
    start_date=EnvVar("INVENTORY_PARTITIONS_START").get_value(DEFAULT_PARTITIONS_START)
    or DEFAULT_PARTITIONS_START,
    timezone="UTC",
    end_offset=1,
)
