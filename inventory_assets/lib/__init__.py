"""Library code with no Dagster definitions in it: loading, the warehouse, reports."""
