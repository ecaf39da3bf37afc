"""Benchmarks: the harness (``run.py``, ``prepare.py``). The data it loads comes from
``manage.py generate_load_data`` (``portal.loaddata``): production code never imports
this package."""
