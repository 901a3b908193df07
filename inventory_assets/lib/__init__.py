"""Library code with no Dagster definitions in it: the vendor probe."""
