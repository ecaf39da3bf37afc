"""gunicorn settings for production (``--config docs/gunicorn.conf.py``).

With ``PROMETHEUS_MULTIPROC_DIR`` set, each worker writes its metrics to files there and
``/metrics`` adds them up; a worker that exits must be marked dead so that its gauges
are dropped."""


def child_exit(server, worker):
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
