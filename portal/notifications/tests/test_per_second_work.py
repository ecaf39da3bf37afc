"""Work done once a second or once a shape, not once an email: the Date header, a
multipart's Content-Type line, a claim's context texts (bench/FINDINGS.md, N-14)."""

import json
import random
from email import utils
from unittest import mock

import pytest
from django.core.mail import message as django_message

from portal.notifications import batch, mime

from .test_flattening import _email, _generators

SECOND = 1_780_000_000


@pytest.mark.parametrize("localtime", [False, True])
def test_the_date_is_what_formatdate_writes_at_every_moment(localtime):
    # a moment less than a microsecond before the next second is written as the
    # next second (formatdate rounds to microseconds): never the kept text
    offsets = [0.0, 0.1, 0.5, 0.999998, 0.9999996, 0.99999999, 1.0, 1.2, 0.3, 2.9999997]
    with mock.patch.object(mime, "_last_date", (None, 0.0, 0.0, None, "")):
        for offset in offsets:
            with mock.patch.object(mime.time, "time", return_value=SECOND + offset):
                got = mime._date(localtime)
            assert got == utils.formatdate(SECOND + offset, localtime=localtime)


def test_a_replaced_formatdate_is_used_at_once():
    with mock.patch.object(mime.time, "time", return_value=SECOND + 0.5):
        first = mime._date(False)
        with mock.patch.object(django_message, "formatdate", return_value="then"):
            assert mime._date(False) == "then"
        assert mime._date(False) == first


def test_one_date_at_a_time_is_remembered_for_flattening_and_checking():
    for offset in range(5):
        with mock.patch.object(mime.time, "time", return_value=SECOND + offset):
            message = _email("s", "b", "<p>x</p>", "a@b.c", {}, []).message()
        date = ("Date", message["Date"])
        for linesep in ("\n", "\r\n"):
            assert mime.flattened(message, linesep) == _generators(message, linesep)
            folded = mime._linesep_policies[linesep][1]
            assert folded[date] == f"Date: {date[1]}{linesep}".encode()
            assert _dates(folded) == [date]
        assert _dates(mime._pairs) == [date]  # not one a second


def _dates(remembered: dict) -> list:
    return [k for k in remembered if isinstance(k, tuple) and k[0] == "Date"]


def test_a_multipart_s_content_type_line_is_not_remembered_per_email():
    """Each email's boundary is new: its Content-Type line is made from the one
    remembered with the stand-in boundary, and ``folded`` does not grow per email."""
    sizes = []
    for n in range(30):
        message = _email(f"s{n % 3}", "b", "<p>x</p>", "a@b.c", {}, []).message()
        for linesep in ("\n", "\r\n"):
            assert mime.flattened(message, linesep) == _generators(message, linesep)
        sizes.append(sum(len(mime._linesep_policies[s][1]) for s in ("\n", "\r\n")))
    assert sizes[-1] == sizes[10]


def test_a_boundary_s_line_is_what_the_policy_folds():
    rng = random.Random("boundary-line")
    words = ["multipart/alternative", "boundary=", "x" * 60, "ż", ";", " ", "\t", "a=b"]
    for _ in range(300):
        boundary = f"==hd{rng.getrandbits(128):032x}=="
        value = "".join(
            rng.choice([*words, boundary]) for _ in range(rng.randint(1, 6))
        )
        for linesep in ("\n", "\r\n"):
            policy, folded = mime.POLICY.clone(linesep=linesep), {}
            expected = policy.fold_binary("Content-Type", value)
            for _ in range(2):  # made, then from the remembered stand-in's line
                got = mime._header_line(("Content-Type", value), policy, folded)
                assert got == expected


def _contexts(rng, depth=0):
    values = [None, True, False, 0, 1, -3, 1.5, 1e300, "x", 'Ł"\\\n<>&', "\ud800"]
    if depth < 3 and rng.random() < 0.3:
        return {f"k{rng.randint(0, 9)}ż": _contexts(rng, depth + 1) for _ in "abc"}
    if depth < 3 and rng.random() < 0.2:
        return [_contexts(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return rng.choice([*values, float("nan")])


def test_a_context_s_text_is_its_sorted_compact_json():
    rng = random.Random("canonical")
    for _ in range(2000):
        context = {f"k{n}": _contexts(rng) for n in range(rng.randint(0, 6))}
        expected = json.dumps(context, sort_keys=True, separators=(",", ":"))
        assert batch._canonical(context) == expected
    for bad in ({"a": object()}, {"a": {1: 2, "b": 3}}):
        with pytest.raises(TypeError):
            json.dumps(bad, sort_keys=True, separators=(",", ":"))
        with pytest.raises(TypeError):
            batch._canonical(bad)
    looped = {"a": []}
    looped["a"].append(looped)
    with pytest.raises(ValueError, match="Circular"):
        batch._canonical(looped)
