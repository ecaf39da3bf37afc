"""Work done once per email, not per line or per header: line ends, the texts a new
boundary is checked against, and the Message-ID's random nonce (bench/FINDINGS.md, N-10)."""

import random
from email import generator
from unittest import mock

import pytest

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
    with mock.patch.object(
        threads.secrets, "token_hex", return_value="ab" * 16
    ) as drawn:
        ours = threads.message_id("HD-000042")
    drawn.assert_called_once_with(16)
    assert ours.startswith(f"<hd.HD-000042.{'ab' * 16}.")
    assert threads.reference_of(ours) == "HD-000042"
    assert threads.message_id("HD-000042") != threads.message_id("HD-000042")
