"""The warehouse the inventory dataset lives in: a DuckDB file (default) or PostgreSQL.

Everything that touches the warehouse goes through one of its resources
(`destination.py`: `DuckDBDestinationResource` in `duckdb_file.py`,
`PostgresDestinationResource` in `postgres.py`). The dlt pipeline gets its
destination from `dlt_destination()`; the checks and the downstream assets run
their SQL on `connect()`, which takes the same SQL on both databases. Loads
take turns through the writers' locks (`locking.py`); DuckDB readers may read a
replica of the file that each load replaces (`replica.py`). Which database is
used is configuration (`warehouse.destination` in the settings,
`INVENTORY_DESTINATION`). Nothing here knows the vendor's API.
"""
