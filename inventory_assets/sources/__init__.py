"""dlt sources, usable without Dagster."""
