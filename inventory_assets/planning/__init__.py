"""A backfill planned before it runs: what a range of daily partitions will cost the vendor.

A package of its own, not part of `probe/`: the probe asks what the vendor
*does* (how it pages, windows, authenticates); the plan asks what a given
backfill will *cost* (records, pages, requests, time) under the settings in
force, and whether the vendor's totals for those days look believable. Both
call the vendor through the same `VendorClient`, and nothing else is shared.

- `plan.py`: the pure computation, totals in, pages, requests, seconds and flags out;
- `counts.py`: the plan's own requests, one cheap one per day;
- `report.py`: the plan as a console table and as markdown;
- `cli.py`: the `inventory-api-plan` console script;
- `job.py`: `<group>_backfill_plan_job`, the same plan in the UI.
"""
