"""The request line's direct path (written straight to production's JSON handler,
byte for byte what ``logging`` writes) and ``REQUEST_LOG=off``."""

import io
import json
import logging
import re

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from portal import logs, metrics, observability


def _json_logger(name, *, extra_filter=None):
    """A logger of its own (no parent) with production's handler on a StringIO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    logger = logging.Logger(name, logging.INFO)
    logger.addHandler(handler)
    if extra_filter is not None:
        logger.addFilter(extra_filter)
    return logger, handler, stream


FIELDS = {
    "request_id": "req-1",
    "method": "GET",
    "path": "/kb/50%-off/",
    "route": "kb/<slug:slug>/",
    "status": 200,
    "duration_ms": 0.4,
    "user_id": None,
    "db_queries": 3,
}
TIME = re.compile(r'^\{"time": "[^"]+", ')


@pytest.mark.parametrize("level", [logging.INFO, logging.ERROR])
def test_the_direct_line_is_the_line_logging_writes(level):
    direct, direct_handler, direct_stream = _json_logger("portal.request")
    # any logger filter sends the record through logging
    slow, _, slow_stream = _json_logger("portal.request", extra_filter=lambda r: True)
    assert logs.direct_handler(direct, level) is direct_handler
    assert logs.direct_handler(slow, level) is None
    args = ("GET", "/kb/50%-off/", 200)
    token = logs.context.set({"task_id": "t-9", "request_id": "req-1"})
    try:
        for logger in (direct, slow):
            logs.log_fields(logger, level, "%s %s %s", args, FIELDS, __file__, "_log")
    finally:
        logs.context.reset(token)
    [fast_line] = direct_stream.getvalue().splitlines()
    [slow_line] = slow_stream.getvalue().splitlines()
    assert TIME.sub("", fast_line) == TIME.sub("", slow_line)
    entry = json.loads(fast_line)
    assert list(entry) == [
        "time",
        "level",
        "logger",
        "message",
        "task_id",
        "request_id",
        *list(FIELDS)[1:],
    ]
    assert entry["message"] == "GET /kb/50%-off/ 200"
    assert entry["level"] == logging.getLevelName(level)
    assert direct_stream.getvalue().endswith("\n")


def test_the_direct_line_only_under_productions_configuration():
    logger, handler, _ = _json_logger("portal.request")
    assert logs.direct_handler(logger, logging.INFO) is handler
    second = logging.StreamHandler()  # e.g. pytest's caplog beside it
    logger.addHandler(second)
    assert logs.direct_handler(logger, logging.INFO) is None
    logger.removeHandler(second)
    handler.addFilter(lambda r: True)
    assert logs.direct_handler(logger, logging.INFO) is None
    logger, handler, _ = _json_logger("portal.request")
    handler.setFormatter(logs.TextFormatter())
    assert logs.direct_handler(logger, logging.INFO) is None
    logger, handler, _ = _json_logger("portal.request")
    handler.setLevel(logging.ERROR)
    assert logs.direct_handler(logger, logging.INFO) is None
    assert logs.direct_handler(logger, logging.ERROR) is handler
    child = logging.Logger("portal.request.child", logging.INFO)
    child.parent = logger
    assert logs.direct_handler(child, logging.ERROR) is handler
    child.propagate = False
    assert logs.direct_handler(child, logging.ERROR) is None


@pytest.fixture
def production_logging():
    """Root logs JSON to a StringIO through production's handler, nothing else."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logs.JsonFormatter())
    handler.addFilter(logs.ContextFilter())
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    request_logger = logging.getLogger("portal.request")
    saved_level = request_logger.level
    try:
        yield stream, request_logger
    finally:
        root.handlers[:], _ = saved[0], root.setLevel(saved[1])
        request_logger.setLevel(saved_level)


@pytest.mark.django_db
def test_a_request_writes_its_line_straight_to_the_stream(client, production_logging):
    stream, _ = production_logging
    response = client.get("/ping")
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert line["request_id"] == response["X-Request-ID"]
    assert (line["logger"], line["level"], line["message"]) == (
        "portal.request",
        "INFO",
        "GET /ping 200",
    )
    assert (line["route"], line["status"], line["user_id"], line["db_queries"]) == (
        "ping",
        200,
        None,
        0,
    )


@pytest.mark.django_db
def test_request_log_off_drops_the_info_line_and_keeps_5xx(
    client, production_logging, monkeypatch
):
    stream, request_logger = production_logging
    config = logs.logging_config("json", "INFO", request_log=False)
    assert config["loggers"]["portal.request"] == {"level": "WARNING"}
    assert "portal.request" not in logs.logging_config("json", "INFO")["loggers"]
    request_logger.setLevel(config["loggers"]["portal.request"]["level"])
    response = client.get("/ping")
    assert response.status_code == 200
    assert stream.getvalue() == ""
    # a 5xx still logs its ERROR line (and its metrics)
    with monkeypatch.context() as patch:
        patch.setattr(
            observability.RequestObservabilityMiddleware,
            "__init__",
            lambda self, get_response: setattr(
                self, "get_response", lambda request: HttpResponse(status=502)
            ),
        )
        middleware = observability.RequestObservabilityMiddleware(None)
        before = metrics.REQUESTS.labels(observability.UNMATCHED, "GET", "502")._value
        count = before.get()
        answer = middleware(RequestFactory().get("/anything"))
    assert answer.status_code == 502
    [line] = [json.loads(x) for x in stream.getvalue().splitlines()]
    assert (line["level"], line["status"], line["request_id"]) == (
        "ERROR",
        502,
        answer["X-Request-ID"],
    )
    assert before.get() == count + 1
