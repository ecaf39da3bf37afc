"""Request ids, one JSON log line per request, the id carried into queued jobs, and
expected conditions logged as one line without a traceback."""

import contextvars
import json
import logging
import multiprocessing
import queue
import re

import pytest

from portal import logs
from tickets.tests.factories import QueueFactory, make_customer

HEX_ID = re.compile(r"^[0-9a-f]{32}$")


def request_lines(caplog):
    return [r for r in caplog.records if r.name == "portal.request"]


def as_json(record) -> dict:
    line = logs.JsonFormatter().format(record)
    assert "\n" not in line
    return json.loads(line)


@pytest.mark.django_db
def test_each_response_carries_a_new_request_id_and_one_log_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        first = client.get("/ping")
        second = client.get("/ping")
    assert HEX_ID.match(first["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]
    lines = request_lines(caplog)
    assert len(lines) == 2
    entry = as_json(lines[0])
    assert entry["request_id"] == first["X-Request-ID"]
    assert entry["message"] == "GET /ping 200"
    assert (entry["method"], entry["path"], entry["route"], entry["status"]) == (
        "GET",
        "/ping",
        "ping",
        200,
    )
    assert entry["user_id"] is None
    assert entry["db_queries"] == 0
    assert entry["level"] == "INFO"
    assert entry["logger"] == "portal.request"
    assert isinstance(entry["duration_ms"], float)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("trusted", "given", "kept"),
    [
        (True, "proxy-id-0001", True),
        (False, "proxy-id-0001", False),  # a client cannot choose its log id
        (True, "bad id\nInjected: yes", False),  # nor smuggle lines into the logs
        (True, "x" * 129, False),
    ],
)
def test_request_id_from_a_trusted_proxy_only(client, settings, trusted, given, kept):
    settings.LOG_TRUST_REQUEST_ID = trusted
    response = client.get("/ping", HTTP_X_REQUEST_ID=given)
    if kept:
        assert response["X-Request-ID"] == given
    else:
        assert HEX_ID.match(response["X-Request-ID"])


@pytest.mark.django_db
def test_the_log_line_names_the_signed_in_user_and_the_route(client, caplog):
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    with caplog.at_level(logging.INFO, logger="portal.request"):
        response = client.get("/portal/tickets/")
    assert response.status_code == 200
    [line] = request_lines(caplog)
    entry = as_json(line)
    assert entry["user_id"] == customer.pk
    assert entry["route"] == "portal/tickets/"
    assert entry["status"] == 200
    assert entry["db_queries"] >= 1


@pytest.mark.django_db
def test_unknown_paths_share_one_route_label(client, caplog):
    with caplog.at_level(logging.INFO, logger="portal.request"):
        client.get("/no/such/thing/")
        client.get("/another/unknown/")
    routes = {as_json(r)["route"] for r in request_lines(caplog)}
    statuses = {as_json(r)["status"] for r in request_lines(caplog)}
    assert statuses == {404}
    assert len(routes) == 1  # the Wagtail catch-all pattern, not each path


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_request_id_travels_into_the_job_it_queued(client, monkeypatch, caplog):
    """Given a real queue (the ORM broker, not the tests' inline mode), when a request
    files a ticket, then the notification job it queued logs with its request id,
    though the worker runs it in a fresh context."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.models import OrmQ
    from django_q.signing import SignedPackage
    from django_q.worker import worker

    monkeypatch.setattr(Conf, "SYNC", False)
    QueueFactory(slug="support")
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    response = client.post(  # its transaction commits: the job is queued there
        "/portal/tickets/new/",
        {
            "subject": "Sync stopped",
            "description": "Since this morning.",
            "category": "account",
            "priority": "medium",
        },
    )
    assert response.status_code == 302
    request_id = response["X-Request-ID"]
    assert OrmQ.objects.count() >= 1

    tasks, results = queue.Queue(), queue.Queue()
    for _id, package in get_broker().dequeue():
        task = SignedPackage.loads(package)
        assert task["request_id"] == request_id  # stored with the queued job
        tasks.put({**task, "sync": True})  # keep the test's database connection
    tasks.put("STOP")
    caplog.clear()
    with caplog.at_level(logging.INFO):
        contextvars.Context().run(
            worker, tasks, results, multiprocessing.Value("f", -1)
        )
    job_lines = [as_json(r) for r in caplog.records if r.name == "portal.job"]
    assert job_lines, "the worker ran no job"
    for entry in job_lines:
        assert entry["request_id"] == request_id
        assert entry["success"] is True
        assert entry["task_id"]
    assert logs.current_request_id() is None  # nothing leaked into this context


@pytest.mark.django_db
def test_a_page_size_error_is_one_info_line_without_traceback(client, caplog):
    customer = make_customer(email="dora@example.com")
    client.force_login(customer)
    with caplog.at_level(logging.INFO):
        response = client.post(
            "/graphql/",
            {"query": "{ tickets(first: 1000) { totalCount } }"},
            content_type="application/json",
        )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "PAGE_SIZE"
    graphql_lines = [r for r in caplog.records if r.name == "strawberry.execution"]
    assert len(graphql_lines) == 1
    entry = as_json(graphql_lines[0])
    assert entry["level"] == "INFO"
    assert entry["error_code"] == "PAGE_SIZE"
    assert "exception" not in entry
    assert entry["request_id"] == response["X-Request-ID"]


def test_an_unexpected_error_keeps_its_traceback_in_one_json_line():
    try:
        raise ZeroDivisionError("boom")
    except ZeroDivisionError:
        record = logging.getLogger("portal.test").makeRecord(
            "portal.test",
            logging.ERROR,
            __file__,
            1,
            "failed",
            (),
            __import__("sys").exc_info(),
        )
    logs.ExpectedErrorFilter().filter(record)
    entry = as_json(record)
    assert entry["level"] == "ERROR"
    assert "ZeroDivisionError: boom" in entry["exception"]
    assert entry["exception"].startswith("Traceback")


# --- the request line's fast path writes what the general path would ----------------


@pytest.mark.parametrize(
    "created",
    [
        0.0,
        1_764_750_274.4339,
        1_764_750_274.9995,
        1_764_750_274.9999995,  # rounds up into the next second, as datetime does
        1_764_750_274.0000004,
        1_764_806_399.9999999,  # ... and into the next day
        1_000_000_000.123456,
    ],
)
def test_iso_time_is_datetime_isoformat_to_the_millisecond(created):
    from datetime import UTC, datetime

    expected = datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")
    assert logs.iso_time(created) == expected
    assert logs.iso_time(created) == expected  # the cached second gives the same


def test_the_reused_encoder_writes_what_json_dumps_writes():
    entry = {
        "message": 'é "quoted"\nsecond line\u2028',
        "duration_ms": 0.3,
        "user_id": None,
        "ok": True,
        "nested": {"list": [1, 2.5, "x"]},
        "odd": object(),  # default=str
    }
    line = logs.encode(entry)
    assert line == json.dumps(entry, default=str, ensure_ascii=False)
    assert "\n" not in line


def test_make_record_is_the_record_make_record_would_build():
    logger = logging.getLogger("portal.request")
    fields = {"request_id": "abc", "status": 200, "user_id": None}
    args = ("%s %s %s", ("GET", "/ping", 200))
    fast = logs.make_record(logger, logging.INFO, *args, fields, __file__, "_log")
    slow = logger.makeRecord(
        logger.name, logging.INFO, __file__, 0, *args, None, "_log", fields
    )
    volatile = {"created", "msecs", "relativeCreated"}
    assert {k: v for k, v in vars(fast).items() if k not in volatile} == {
        k: v for k, v in vars(slow).items() if k not in volatile
    }
    assert logs.JsonFormatter().format(fast).replace(
        logs.iso_time(fast.created), "T"
    ) == logs.JsonFormatter().format(slow).replace(logs.iso_time(slow.created), "T")


def test_make_record_honours_a_custom_record_factory():
    class Custom(logging.LogRecord):
        pass

    previous = logging.getLogRecordFactory()
    logging.setLogRecordFactory(Custom)
    try:
        logger = logging.getLogger("portal.request")
        record = logs.make_record(
            logger, logging.INFO, "m", (), {"status": 200}, __file__, "_log"
        )
    finally:
        logging.setLogRecordFactory(previous)
    assert type(record) is Custom
    assert record.status == 200
