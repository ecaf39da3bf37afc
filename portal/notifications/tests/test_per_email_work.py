"""Work done once per email, not per line or per header: line ends, the texts a new
boundary is checked against, and the Message-ID's random nonce (bench/FINDINGS.md, N-10)."""

import random
from email import generator
from email.message import Message
from unittest import mock

import pytest
from django.core.mail.message import MIMEMixin

from portal.notifications import mime, threads

from .test_flattening import _email


@pytest.mark.parametrize("linesep", ["\n", "\r\n", "\r"])
def test_a_text_s_lines_are_what_the_generator_s_line_split_gives(linesep):
    rng = random.Random(f"lines-{linesep!r}")
    pieces = ["a", "\n", "\n\n", "\r", "\r\n", " ", "\udcff", "<p>", ""]
    for _ in range(500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        expected = linesep.join(generator.NLCRE.split(text))
        assert mime._lines(text, linesep) == expected.encode("ascii", "surrogateescape")


def _all_texts(part):
    """What a boundary was checked against before: every header line and payload."""
    found = [f"{name}: {value}" for name, value in part._headers]
    if isinstance(part._payload, list):
        for child in part._payload:
            found += _all_texts(child)
    else:
        found.append(str(part._payload))
    return found


def test_a_boundary_is_checked_against_the_texts_that_could_hold_one():
    rng = random.Random("boundaries-in")
    for _ in range(200):
        taken = [f"==hd{rng.getrandbits(128):032x}==" for _ in range(3)]
        subject, body, html = (rng.choice([*taken, "", "==hd", "x"]) for _ in "abc")
        message = _email(f"s {subject}", f"b {body}", f"<p>{html}</p>", "a@b.c", {}, [])
        message = message.message()
        for boundary in [*taken, message.get_boundary(), "==hd" + "0" * 32 + "=="]:
            assert (boundary in mime._boundaries_in(message)) == (
                boundary in "\n".join(_all_texts(message))
            )


def test_a_message_id_s_nonce_is_new_random_hex_and_recognised():
    with mock.patch.object(threads.os, "urandom", return_value=b"\xab" * 16) as drawn:
        ours = threads.message_id("HD-000042")
    drawn.assert_called_once_with(16)
    assert ours.startswith(f"<hd.HD-000042.{'ab' * 16}.")
    assert threads.reference_of(ours) == "HD-000042"
    assert threads.message_id("HD-000042") != threads.message_id("HD-000042")


def test_our_email_s_boundary_is_checked_against_every_text_it_holds():
    """``_alternatives_texts`` holds a boundary exactly where all of the email's
    header lines and payloads do (the subject, body, HTML, Reply-To, References)."""
    rng = random.Random("alternatives-texts")
    for _ in range(200):
        taken = [f"==hd{rng.getrandbits(128):032x}==" for _ in range(3)]
        subject, body, html, extra = (
            rng.choice([*taken, "", "==hd", "x"]) for _ in "abcd"
        )
        headers = {"Reply-To": f"r{extra}@b.c", "References": f"<{extra}@b.c>"}
        email = _email(f"s {subject}", f"b {body}", f"<p>{html}</p>", "a@b.c", {}, [])
        email.extra_headers = headers
        message = email.message()
        for boundary in [*taken, message.get_boundary(), "==hd" + "0" * 32 + "=="]:
            assert (boundary in mime._alternatives_texts(message)) == (
                boundary in "\n".join(_all_texts(message))
            )


@pytest.mark.parametrize("where", ["body", "reply_to", "references"])
def test_a_boundary_in_our_email_s_body_or_headers_is_drawn_again(where):
    taken, second = "c" * 32, "d" * 32
    text = f"x ==hd{taken}== y"
    headers = {
        "Reply-To": "r@b.c" if where != "reply_to" else f'"{text}" <r@b.c>',
        "References": "<a@b.c>" if where != "references" else f"<{text}@b.c>",
    }
    drawn = [bytes.fromhex(taken), bytes.fromhex(second)]
    with mock.patch.object(mime.os, "urandom", side_effect=drawn):
        email = _email(
            "s", text if where == "body" else "b", "<p>x</p>", "a@b.c", {}, []
        )
        email.extra_headers = headers
        message = email.message()
    assert message.get_boundary() == f"==hd{second}=="
    for linesep in ("\n", "\r\n"):
        assert mime.flattened(message, linesep) == MIMEMixin.as_bytes(
            message, linesep=linesep
        )


def test_a_part_without_a_content_type_is_not_written_as_a_text_part_seen_before():
    """Text parts' header lines are kept by their stored headers only when these name
    the type: the same headers without a Content-Type mean message/rfc822 in a
    digest (the generator's to write), text/plain elsewhere."""
    policy, folded = mime.POLICY.clone(linesep="\n"), {}
    plain = Message(policy=mime.POLICY)
    plain["MIME-Version"] = "1.0"
    plain.set_payload("x\n")
    assert mime._write(plain, policy, "\n", [], folded) is True
    in_digest = Message(policy=mime.POLICY)
    in_digest["MIME-Version"] = "1.0"
    in_digest.set_payload("x\n")
    in_digest.set_default_type("message/rfc822")
    assert mime._write(in_digest, policy, "\n", [], folded) is False
    typed = mime.text_part("x\n", "plain", "utf-8")
    first, again = [], []
    assert mime._write(typed, policy, "\n", first, folded) is True
    assert any(key[0] == "text part" for key in folded)
    assert mime._write(typed, policy, "\n", again, folded) is True
    assert b"".join(again) == b"".join(first)
