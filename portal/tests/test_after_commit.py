"""``portal.after_commit``: the Redis commands of a change's after-commit hooks, at
once or, inside ``together``, in one round trip per server; a failure handed to each
command's owner, never raised. On the real Redis (database 14, keys and channels of
the test's own)."""

import hashlib
import socket
import uuid

import pytest
import redis

from portal import after_commit

URL = "redis://127.0.0.1:6379/14"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Spy:
    """A client whose commands are recorded (name first) before they are sent."""

    def __init__(self, url=URL):
        self.client = redis.Redis.from_url(url, socket_connect_timeout=1)
        self.sent = []
        send = self.client.execute_command

        def recorded(*args, **options):
            self.sent.append(args[0])
            return send(*args, **options)

        self.client.execute_command = recorded


@pytest.fixture
def names():
    tag = uuid.uuid4().hex
    plain = redis.Redis.from_url(URL)
    yield f"after-commit-test:{tag}:list", f"after-commit-test:{tag}:channel"
    plain.delete(f"after-commit-test:{tag}:list", f"after-commit-test:{tag}:text")


@pytest.fixture
def listener(names):
    pubsub = redis.Redis.from_url(URL).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(names[1])
    pubsub.get_message(timeout=1)  # the subscription's confirmation

    def received():
        got = []
        while (message := pubsub.get_message(timeout=0.5)) is not None:
            got.append(message["data"])
        return got

    yield received
    pubsub.close()


def _errors():
    seen = []
    return seen, seen.append


def test_outside_a_block_each_command_goes_at_once(names, listener):
    queue, channel = names
    spy, (errors, on_error) = Spy(), _errors()
    after_commit.send(spy.client, ("RPUSH", queue, b"job"), on_error)
    assert spy.sent == ["RPUSH"]
    after_commit.send(spy.client, ("PUBLISH", channel, b"event"), on_error)
    assert spy.sent == ["RPUSH", "PUBLISH"]
    assert spy.client.lrange(queue, 0, -1) == [b"job"]
    assert listener() == [b"event"]
    assert errors == []


def test_inside_a_block_the_commands_go_at_its_end_in_one_round_trip(names, listener):
    queue, channel = names
    pusher, publisher, (errors, on_error) = Spy(), Spy(), _errors()
    with after_commit.together():
        after_commit.send(pusher.client, ("RPUSH", queue, b"job"), on_error)
        after_commit.send(publisher.client, ("PUBLISH", channel, b"first"), on_error)
        after_commit.send(publisher.client, ("PUBLISH", channel, b"second"), on_error)
        with after_commit.together():  # an inner block joins the outer one
            after_commit.send(pusher.client, ("RPUSH", queue, b"again"), on_error)
        assert pusher.sent == publisher.sent == []  # held
    assert pusher.sent in (["EVALSHA"], ["EVALSHA", "SCRIPT LOAD", "EVALSHA"])
    assert publisher.sent == []  # the same server: on the pusher's connection
    assert pusher.client.lrange(queue, 0, -1) == [b"job", b"again"]
    assert listener() == [b"first", b"second"]  # in order
    assert errors == []


def test_a_server_not_loaded_with_the_script_loads_it_once(
    names, listener, monkeypatch
):
    queue, channel = names
    script = f"-- {uuid.uuid4().hex}\n{after_commit._SCRIPT}"  # unknown to Redis
    monkeypatch.setattr(after_commit, "_SCRIPT", script)
    sha = hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()
    monkeypatch.setattr(after_commit, "_SHA", sha)
    spy, (errors, on_error) = Spy(), _errors()
    with after_commit.together():
        after_commit.send(spy.client, ("RPUSH", queue, b"job"), on_error)
        after_commit.send(spy.client, ("PUBLISH", channel, b"event"), on_error)
    assert spy.sent == ["EVALSHA", "SCRIPT LOAD", "EVALSHA"]
    assert spy.client.lrange(queue, 0, -1) == [b"job"]
    assert listener() == [b"event"]
    assert errors == []


def test_one_command_alone_in_a_block_goes_as_itself(names):
    queue, _channel = names
    spy, (errors, on_error) = Spy(), _errors()
    with after_commit.together():
        after_commit.send(spy.client, ("RPUSH", queue, b"job"), on_error)
    assert spy.sent == ["RPUSH"]
    assert errors == []


def test_commands_for_another_server_or_list_database_are_not_combined(names, listener):
    queue, channel = names
    down = f"redis://127.0.0.1:{_closed_port()}/14"
    pusher, publisher, elsewhere = Spy(), Spy(down), Spy(URL.replace("/14", "/13"))
    (push_errors, push_failed), (publish_errors, publish_failed) = _errors(), _errors()
    (other_errors, other_failed) = _errors()
    with after_commit.together():
        after_commit.send(pusher.client, ("RPUSH", queue, b"job"), push_failed)
        after_commit.send(
            publisher.client, ("PUBLISH", channel, b"lost"), publish_failed
        )
        after_commit.send(elsewhere.client, ("RPUSH", queue, b"other"), other_failed)
    # each alone: the list pushed, the other database's list pushed there, the
    # publisher's server down (its owner told)
    assert (pusher.sent, publisher.sent, elsewhere.sent) == (
        ["RPUSH"],
        ["PUBLISH"],
        ["RPUSH"],
    )
    assert pusher.client.lrange(queue, 0, -1) == [b"job"]
    assert elsewhere.client.lrange(queue, 0, -1) == [b"other"]
    elsewhere.client.delete(queue)
    assert listener() == []
    assert push_errors == other_errors == []
    assert [type(error) for error in publish_errors] == [redis.ConnectionError]


def test_redis_down_at_the_end_tells_every_owner_and_raises_nothing(names):
    queue, channel = names
    down = Spy(f"redis://127.0.0.1:{_closed_port()}/14")
    (push_errors, push_failed), (publish_errors, publish_failed) = _errors(), _errors()
    with after_commit.together():
        after_commit.send(down.client, ("RPUSH", queue, b"job"), push_failed)
        after_commit.send(down.client, ("PUBLISH", channel, b"event"), publish_failed)
    assert down.sent == ["EVALSHA"]
    assert [type(error) for error in push_errors + publish_errors] == [
        redis.ConnectionError,
        redis.ConnectionError,
    ]


def test_a_command_refused_inside_the_script_does_not_take_the_others_with_it(
    names, listener
):
    queue, channel = names
    spy, (push_errors, push_failed), (publish_errors, publish_failed) = (
        Spy(),
        _errors(),
        _errors(),
    )
    spy.client.set(queue, "not a list")  # RPUSH answers WRONGTYPE
    with after_commit.together():
        after_commit.send(spy.client, ("RPUSH", queue, b"job"), push_failed)
        after_commit.send(spy.client, ("PUBLISH", channel, b"event"), publish_failed)
    assert spy.sent[-2:] == ["RPUSH", "PUBLISH"]  # after the refused script, alone
    assert [type(error) for error in push_errors] == [redis.ResponseError]
    assert publish_errors == []
    assert listener() == [b"event"]


def test_the_block_sends_what_it_holds_when_it_raises(names):
    queue, _channel = names
    spy, (errors, on_error) = Spy(), _errors()
    with pytest.raises(RuntimeError), after_commit.together():
        after_commit.send(spy.client, ("RPUSH", queue, b"job"), on_error)
        raise RuntimeError
    assert spy.client.lrange(queue, 0, -1) == [b"job"]
    assert errors == []
    with after_commit.together():  # nothing left over from the block before
        pass
    assert spy.sent == ["RPUSH", "LRANGE"]


def test_only_the_two_after_commit_commands_are_taken():
    with pytest.raises(ValueError):
        after_commit.send(Spy().client, ("FLUSHDB",), print)
