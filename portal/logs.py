"""Structured logs: one JSON object per line, each carrying the request (or job) it
belongs to.

* ``context`` holds the current request id (and user id, task id) for everything the
  request or job logs; ``portal.observability`` sets it per request and
  ``portal.job_context`` per job, from the request that queued it.
* ``JsonFormatter`` writes a record as one line: time, level, logger, message, the
  context, the record's ``extra`` fields, and a failure's traceback as one string.
* ``ExpectedErrorFilter`` turns an expected client error that a library logs with its
  traceback (a GraphQL ``PAGE_SIZE`` or ``INVALID_INPUT`` error: an exception carrying a
  typed ``extensions["code"]``) into one INFO line without the traceback.
* ``init_sentry`` switches on error reporting when ``SENTRY_DSN`` is set.

``LOG_FORMAT`` chooses ``json`` (production default) or ``text`` (development).
"""

import contextvars
import json
import logging
import time
import traceback

context: contextvars.ContextVar[dict | None] = contextvars.ContextVar(
    "portal_log_context", default=None
)

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
CONTEXT_FIELDS = ("request_id", "user_id", "task_id", "task_name")
# json.dumps() with options builds an encoder per call
_ENCODER = json.JSONEncoder(default=str, ensure_ascii=False)
# ... and JSONEncoder.encode() builds its C encoder per call (half the cost of a line):
# build it once, as encode() would (no circular-reference markers: a cycle ends in a
# RecursionError, which logging reports like any other formatting error).
if json.encoder.c_make_encoder is not None and json.encoder.c_encode_basestring:
    _c_encode = json.encoder.c_make_encoder(
        None,
        str,
        json.encoder.c_encode_basestring,
        None,
        ": ",
        ", ",
        False,
        False,
        True,
    )

    def encode(entry: dict) -> str:
        """``_ENCODER.encode(entry)`` for a dict."""
        return "".join(_c_encode(entry, 0))

else:  # pragma: no cover (Python without the C accelerator)
    encode = _ENCODER.encode


# (whole second, its "YYYY-MM-DDTHH:MM:SS"): one strftime a second, not one a line
_second = (None, "")


def iso_time(created: float) -> str:
    """``datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")``
    (microseconds rounded half to even, then truncated to milliseconds), for a
    fraction of its cost: the part up to the second is formatted once a second."""
    global _second  # noqa: PLW0603 (a tuple swap: safe across threads)
    whole = int(created)
    micros = round((created - whole) * 1e6)
    if micros >= 1_000_000:
        whole += 1
        micros -= 1_000_000
    cached, prefix = _second
    if cached != whole:
        prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second = (whole, prefix)
    return f"{prefix}.{micros // 1000:03d}+00:00"


def make_record(logger, level, msg, args, extra, pathname, func):
    """``logger.makeRecord()`` for a record without exception or stack info whose
    ``extra`` keys are known not to clash with a LogRecord's own attributes: the same
    LogRecord, without makeRecord's per-key checks (the request line's hot path)."""
    factory = logging.getLogRecordFactory()
    if factory is not logging.LogRecord:  # someone installed their own: honour it
        return logger.makeRecord(
            logger.name, level, pathname, 0, msg, args, None, func, extra
        )
    record = logging.LogRecord(logger.name, level, pathname, 0, msg, args, None, func)
    record.__dict__.update(extra)
    return record


def direct_handler(logger, level):
    """The one handler a ``level`` record of ``logger`` would reach, when nothing on
    the way could change its line: a plain ``StreamHandler`` with ``JsonFormatter`` and
    at most ``ContextFilter`` (production's configuration), no filter on ``logger``.
    ``None`` otherwise (a second handler such as pytest's ``caplog``, another format, a
    filter): then the record goes through ``logging`` as usual."""
    if logger.filters or logger.disabled:
        return None
    found = None
    current_logger = logger
    while current_logger:
        for handler in current_logger.handlers:
            if found is not None or level < handler.level:
                return None
            found = handler
        if not current_logger.propagate:
            break
        current_logger = current_logger.parent
    if (
        found is None
        or type(found) is not logging.StreamHandler
        or type(found.formatter) is not JsonFormatter
        or any(type(each) is not ContextFilter for each in found.filters)
    ):
        return None
    return found


def log_fields(logger, level, msg, args, fields, pathname, func) -> None:
    """``logger.log(level, msg, *args, extra=fields)`` for the request line, whose
    ``fields`` never clash with a LogRecord's attributes.

    Under production's configuration (``direct_handler``) the line is built and
    written here, byte for byte what ``JsonFormatter`` would write for the record,
    without the record: no LogRecord, no walk through the handlers, one lock round.
    Otherwise the record goes through ``logging`` (``make_record``)."""
    if not logger.isEnabledFor(level):
        return
    handler = direct_handler(logger, level)
    if handler is None:
        logger.handle(make_record(logger, level, msg, args, fields, pathname, func))
        return
    entry = {
        "time": iso_time(time.time()),
        "level": logging.getLevelName(level),
        "logger": logger.name,
        "message": msg % args if args else msg,
    }
    if scope := context.get():
        for key, value in scope.items():
            entry.setdefault(key, value)
    entry.update(fields)
    handler.acquire()
    try:
        handler.stream.write(encode(entry) + handler.terminator)
        handler.flush()
    except RecursionError:
        raise
    except Exception:  # noqa: BLE001 - as StreamHandler.emit: report, never raise
        handler.handleError(
            make_record(logger, level, msg, args, fields, pathname, func)
        )
    finally:
        handler.release()


def current() -> dict:
    """The current request's or job's context (empty outside one)."""
    return context.get() or {}


def current_request_id() -> str | None:
    return current().get("request_id")


class ContextFilter(logging.Filter):
    """Copies the current context onto each record (for the text format, and so that
    handlers that format later still see the request it came from)."""

    def filter(self, record):
        for key, value in current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class ExpectedErrorFilter(logging.Filter):
    """A typed client error is expected: one INFO line, no traceback."""

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        extensions = getattr(error, "extensions", None)
        if isinstance(extensions, dict) and extensions.get("code"):
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.error_code = extensions["code"]
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if scope := context.get():
            for key, value in scope.items():
                entry.setdefault(key, value)
        standard = _STANDARD
        for key, value in vars(record).items():
            if key not in standard and key[0] != "_":
                entry[key] = value
        if record.exc_info:
            entry["exception"] = "".join(
                traceback.format_exception(*record.exc_info)
            ).rstrip()
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return encode(entry)


class TextFormatter(logging.Formatter):
    """Development: a readable line, with the request id when there is one."""

    def format(self, record):
        line = super().format(record)
        request_id = getattr(record, "request_id", None) or current_request_id()
        return f"{line} [{request_id}]" if request_id else line


def logging_config(
    fmt: str = "text", level: str = "INFO", *, request_log: bool = True
) -> dict:
    """The ``LOGGING`` setting: everything to stderr in ``fmt``, one line a record.
    ``request_log=False`` (``REQUEST_LOG=off``) drops the INFO line per request (a
    proxy's access log has it) and keeps the ERROR line of each 5xx."""
    formatter = (
        {"()": "portal.logs.JsonFormatter"}
        if fmt == "json"
        else {
            "()": "portal.logs.TextFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s: %(message)s",
        }
    )
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "context": {"()": "portal.logs.ContextFilter"},
            "expected": {"()": "portal.logs.ExpectedErrorFilter"},
        },
        "formatters": {"default": formatter},
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "filters": ["context"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            # portal.observability writes one line per request; Django's own
            # "Not Found: /x" warnings would repeat it. Errors (5xx) still log.
            "django.request": {"level": "ERROR"},
            "django.server": {"level": "ERROR"},
            "strawberry.execution": {"filters": ["expected"]},
            **({} if request_log else {"portal.request": {"level": "WARNING"}}),
        },
    }


def init_sentry(dsn: str, *, environment: str = "", traces_sample_rate=0.0) -> None:
    """Error reporting to Sentry (or a compatible service); off unless ``SENTRY_DSN``.
    No personal data is sent; events carry the request id as a tag."""
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    def tag_request_id(event, hint):
        if request_id := current_request_id():
            event.setdefault("tags", {})["request_id"] = request_id
        return event

    sentry_sdk.init(
        dsn=dsn,
        environment=environment or None,
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        traces_sample_rate=traces_sample_rate,
        before_send=tag_request_id,
    )
