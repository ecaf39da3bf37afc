"""The request id travels into the jobs a request queued.

django-q2 signals carry it without touching the queueing code: ``pre_enqueue`` writes
the current request id into the task (it is signed and stored with it), and
``pre_execute`` restores it, with the task's id and name, for everything the job logs;
``post_execute_in_worker`` logs the job's one line (duration, success) and restores
the worker's own context. Wired in ``portal.apps``.
"""

import logging
import time

from . import logs

logger = logging.getLogger("portal.job")

_running: dict[str, tuple] = {}  # task id → (context token, start time)


def remember_request(sender, task, **kwargs) -> None:
    request_id = logs.current_request_id()
    if request_id and "request_id" not in task:
        task["request_id"] = request_id


def enter_job(sender, func, task, **kwargs) -> None:
    job = {
        "request_id": task.get("request_id") or logs.current_request_id(),
        "task_id": task.get("id"),
        "task_name": task.get("name"),
    }
    token = logs.context.set({**logs.current(), **job})
    _running[task.get("id")] = (token, time.perf_counter())


def leave_job(sender, func, task, **kwargs) -> None:
    token, started = _running.pop(task.get("id"), (None, None))
    if token is None:
        return
    success = task.get("success", True) is not False
    name = task.get("func")
    if not isinstance(name, str):
        name = getattr(func, "__qualname__", repr(func))
    logger.log(
        logging.INFO if success else logging.ERROR,
        "job %s %s",
        name,
        "done" if success else "failed",
        extra={
            **logs.current(),
            "duration_ms": round((time.perf_counter() - started) * 1000, 1),
            "success": success,
        },
    )
    logs.context.reset(token)


def connect() -> None:
    from django_q.signals import post_execute_in_worker, pre_enqueue, pre_execute

    pre_enqueue.connect(remember_request, dispatch_uid="portal-job-request-id")
    pre_execute.connect(enter_job, dispatch_uid="portal-job-enter")
    post_execute_in_worker.connect(leave_job, dispatch_uid="portal-job-leave")
