"""Benchmarks of the inventory ingestion: the project against a raw HTTP loop and plain dlt.

Run `python -m benchmarks` (or `make bench`) from the project root. The harness
starts the API simulator in its own process and measures every variant in a
fresh child process, so each peak RSS is that measurement's own and the
server's memory never counts. This package imports nothing on purpose: the
measured children import `benchmarks.child`, and the lighter they start, the
truer the raw lower bound's memory is.
"""
