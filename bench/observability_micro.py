"""The request observability middleware's own CPU time, without the rest of Django:
the middleware wrapped around a view that only builds an ``HttpResponse``, against the
bare view, 50,000 ``RequestFactory`` requests each, twice, then a cProfile of 20,000
calls (``REQUEST_LOG=off``: the metrics middleware). Prints µs per request.

    .venv/bin/python bench/observability_micro.py   # after bench/ceiling_observability.py
                                                     # made the bench_ceiling database
"""

import cProfile
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import child_env  # noqa: E402

os.environ.update(child_env("bench_ceiling"))
os.environ.pop("BENCH_COUNT_QUERIES", None)
os.environ["REQUEST_LOG"] = "false"

import django  # noqa: E402

django.setup()

from django.http import HttpResponse  # noqa: E402
from django.test import RequestFactory  # noqa: E402
from django.urls import resolve  # noqa: E402

from portal.observability import RequestObservabilityMiddleware  # noqa: E402

MATCH = resolve("/ping")


def view(request):
    request.resolver_match = MATCH
    return HttpResponse(b"ok")


def main() -> int:
    middleware = RequestObservabilityMiddleware(view)
    requests = [RequestFactory().get("/ping") for _ in range(50_000)]
    for name, handler in (("bare", view), ("middleware", middleware)) * 2:
        started = time.process_time()
        for request in requests:
            handler(request)
        spent = time.process_time() - started
        print(f"{name}: {spent / len(requests) * 1e6:.1f} µs per request")
    profile = cProfile.Profile()
    profile.runcall(lambda: [middleware(r) for r in requests[:20_000]])
    profile.print_stats("tottime")
    return 0


if __name__ == "__main__":
    sys.exit(main())
