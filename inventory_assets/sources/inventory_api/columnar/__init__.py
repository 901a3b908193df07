"""The source's speed path: records as typed Arrow, never a second set of rules.

`batching.py` is the dlt step that turns checked records into Arrow tables of
the declared types (dlt writes them to Parquet as they are); `column_checks.py`
checks a clean batch column by column, as the record checks (validation.py)
would record by record; `keys.py` keeps a window's keys as Arrow arrays (for
repeats and deletes), `arrow_types.py` maps the declared columns to Arrow.
"""
