"""The daily partitions every windowed endpoint shares.

Partitions are UTC days, so a partition is a fixed window of the vendor's
`updated_at` regardless of where Dagster runs. `end_offset=1` makes today's
partition exist while the day is still running: the change sensor refreshes it
as the vendor's records change, and the daily schedule finalizes it after
midnight.
"""

from datetime import date

from dagster import DailyPartitionsDefinition


def daily_partitions(start: date) -> DailyPartitionsDefinition:
    """UTC days from `start` (the settings' `partitions_start`) to today, inclusive."""
    return DailyPartitionsDefinition(start_date=start.isoformat(), timezone="UTC", end_offset=1)
