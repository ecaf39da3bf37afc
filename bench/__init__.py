"""Benchmarks: the load-data generator (``bench.generator``) and the harness (``run.py``)."""
