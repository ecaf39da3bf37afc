"""Redis commands a change sends once it has committed, in one round trip.

After a change commits, two owners each tell Redis: the outbox wakes a job worker
(``portal.jobs``: django-q's ``RPUSH``) and the live bus wakes the subscribers
(``live.bus``: a ``PUBLISH``). Both are hints, never the truth (the outbox rows and the
``TicketEvent`` rows are), and each owner handles its own failure. They hand their
command to ``send``: at once, as before, or, inside a ``together`` block (a service's
transaction, ``tickets.services``), at the block's end with the others that go to the
same server, as one command (a script that runs them in order): one round trip
instead of one per command.

A failure of the combined command (Redis down) is handed to every command's
``on_error``; a refusal of the script (a server that refuses scripts, or one command's
error stopping it) sends each command alone, as ``send`` does outside a block (one that
ran before the stop then goes twice: a hint whose receivers drop repeats).
"""

import contextvars
import hashlib
import logging
from contextlib import contextmanager

logger = logging.getLogger(__name__)

# the lists' RPUSHes (KEYS, with a value each in ARGV), then the PUBLISHes (the rest of
# ARGV, channel and message pairs), in order
_SCRIPT = """
for i, key in ipairs(KEYS) do
    redis.call('RPUSH', key, ARGV[i])
end
for i = #KEYS + 1, #ARGV, 2 do
    redis.call('PUBLISH', ARGV[i], ARGV[i + 1])
end
return #KEYS
"""
# the name Redis knows the script by (EVALSHA), not a security use
_SHA = hashlib.sha1(_SCRIPT.encode(), usedforsecurity=False).hexdigest()

KINDS = ("RPUSH", "PUBLISH")

_held: contextvars.ContextVar[list | None] = contextvars.ContextVar(
    "portal_after_commit_held", default=None
)


@contextmanager
def together():
    """Hold the commands ``send`` is given inside the block and send them at its end
    (also when it raises: they come from changes that committed). A block inside
    another joins it."""
    if _held.get() is not None:
        yield
        return
    held: list = []
    token = _held.set(held)
    try:
        yield
    finally:
        _held.reset(token)
        if held:
            flush(held)


def send(client, command: tuple, on_error) -> None:
    """Send ``command`` (``("RPUSH", key, value)`` or ``("PUBLISH", channel,
    message)``) with the redis-py ``client``: at once, or at the end of the current
    ``together`` block. ``on_error(error)`` is called, instead of raising, when it
    cannot be sent."""
    if command[0] not in KINDS:
        raise ValueError(f"not a command sent after a commit: {command[0]!r}")
    held = _held.get()
    if held is None:
        _send_alone(client, command, on_error)
    else:
        held.append((client, command, on_error))


def _send_alone(client, command, on_error) -> None:
    try:
        client.execute_command(*command)
    except Exception as error:  # noqa: BLE001 - the owner decides what it means
        on_error(error)


def _server(client) -> tuple:
    """Where ``client``'s commands go: the server (a PUBLISH reaches every database
    of it) and the database number (an RPUSH's list is in one)."""
    pool = client.connection_pool
    kwargs = pool.connection_kwargs
    server = (
        pool.connection_class,
        kwargs.get("host"),
        kwargs.get("port"),
        kwargs.get("path"),
        kwargs.get("username"),
        kwargs.get("password"),
    )
    return server, kwargs.get("db", 0)


def flush(held: list) -> None:
    """Send ``held`` (client, command, on_error): one command per server (a PUBLISH
    joins the first group of its server, an RPUSH one of its server and database)."""
    groups: list[tuple[tuple, object, object, list]] = []
    for client, command, on_error in held:
        server, db = _server(client)
        for group in groups:
            if group[0] == server and (command[0] == "PUBLISH" or group[1] == db):
                group[3].append((client, command, on_error))
                break
        else:
            groups.append((server, db, client, [(client, command, on_error)]))
    for _server_key, _db, client, commands in groups:
        if len(commands) == 1:
            _send_alone(*commands[0])
        else:
            _send_together(client, commands)


def _send_together(client, commands) -> None:
    from redis.exceptions import ResponseError

    from .counters import run_script
    from .redis_clients import kept_single_connection

    keys, values, published = [], [], []
    for _client, command, _on_error in commands:
        if command[0] == "RPUSH":
            keys.append(command[1])
            values.append(command[2])
        else:
            published.extend(command[1:])
    args = (len(keys), *keys, *values, *published)
    try:
        # the same pool (server, database, retry), one connection kept: a refused
        # connection raises here, as the command's would
        run_script(kept_single_connection(client), _SHA, _SCRIPT, *args)
    except ResponseError:
        # refused as a whole (scripts off, out of memory) or stopped by one command:
        # each alone, so that one refusal does not take the others with it
        logger.info("after commit: the commands together were refused; one by one")
        for command in commands:
            _send_alone(*command)
    except Exception as error:  # noqa: BLE001 - down or unreachable: as ``send``
        for _client, _command, on_error in commands:
            on_error(error)
