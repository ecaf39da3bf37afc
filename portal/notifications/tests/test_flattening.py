"""``mime.flattened`` writes a message exactly as the standard library's generator
(Django's ``as_bytes``) writes the same object, and leaves what it does not write to
the generator. The whole-email oracle against Django's own
``EmailMultiAlternatives`` is in ``test_batched_delivery.py``; here each message is
flattened both ways as it is, so nothing needs masking."""

import random
import uuid
from email import generator
from email._policybase import Compat32
from email.errors import HeaderParseError
from email.header import Header
from email.mime.application import MIMEApplication
from email.mime.base import MIMEBase
from email.utils import formatdate
from unittest import mock

import pytest
from django.core import mail
from django.core.mail.message import MIMEMixin

from portal.notifications import mime, sending, threads

from .test_batched_delivery import VARIANTS

LINESEPS = ("\n", "\r\n")


def _generators(message, linesep):
    """What Django's ``as_bytes`` writes with the generator."""
    return MIMEMixin.as_bytes(message, linesep=linesep)


def _email(subject, body, html, to, headers, attachments):
    email = sending.Email(subject=subject, body=body, to=[to], headers=headers)
    if html is not None:
        email.attach_alternative(html, "text/html")
    for attachment in attachments:
        email.attach(*attachment)
    return email


def _both_ways(message):
    for linesep in LINESEPS:
        ours = mime.flattened(message, linesep)
        assert ours is not None
        assert ours == _generators(message, linesep)
        assert message.as_bytes(linesep=linesep) == ours


@pytest.mark.parametrize("variant", VARIANTS, ids=list(VARIANTS))
def test_our_emails_flatten_as_the_generator_writes_them(variant):
    """en/pl/ru, 7bit/8bit/quoted-printable, long subjects folded, non-ASCII names
    and attachment names, with and without an html part."""
    for _ in range(2):  # Django's classes first, then the copied prototypes
        _both_ways(_email(*VARIANTS[variant]).message())


def test_a_notification_is_flattened_without_the_generator():
    email = _email(
        "[HD-000042] Nowe zgłoszenie: " + "ż" * 80,
        "Dzień dobry Zoë,\nHelp!\n",
        "<p>Dzień dobry Zoë,</p>",
        "Zoë <zoe@example.com>",
        threads.headers("HD-000042", reply_to="support@example.com"),
        [("raport.csv", "ą,b\n1,2\n", "text/csv")],
    )
    message = email.message()
    expected = _generators(message, "\r\n")
    with mock.patch.object(
        generator.BytesGenerator, "flatten", side_effect=AssertionError("used")
    ):
        assert message.as_bytes(linesep="\r\n") == expected
        connection = mail.get_connection(
            "django.core.mail.backends.console.EmailBackend"
        )
        with mock.patch.object(connection, "stream") as stream:
            connection.send_messages([email])
    written = stream.write.call_args_list[0].args[0]
    assert written.startswith("Content-Type: multipart/mixed;\n boundary=")
    assert 'filename="raport.csv"\n\ną,b\n1,2\n' in written


@pytest.mark.parametrize(
    "body",
    [
        "",  # no text: the html alone in the alternative
        "no line end",
        "mixed\r\nline\rends\n\n\r\n",
        "\n\nleading blank lines and From here\nFrom me\n",
        "ünïcödé\r\nand a trailing CR\r",
    ],
)
def test_line_ends_and_empty_texts_are_written_as_the_generator_writes_them(body):
    email = _email("s", body, "<p>x</p>\r\n", "a@example.com", {}, [])
    email.attach("data.bin", b"\x00\xff" * 100, "application/octet-stream")
    _both_ways(email.message())


def test_a_preamble_and_an_epilogue_are_written_as_the_generator_writes_them():
    message = _email("s", "text\n", "<p>x</p>", "a@example.com", {}, []).message()
    message.preamble = "This is a\r\nmulti-part message.\r"
    message.epilogue = "\nthe end\n"
    _both_ways(message)
    message.preamble, message.epilogue = "", ""
    _both_ways(message)


def test_parts_it_does_not_write_are_left_to_the_generator():
    """A forwarded email (message/rfc822), a signed multipart, a message with
    another policy, a message/* part with a text payload and a Unix From line: the generator writes them, as before."""
    forwarded = _email("s", "text", None, "a@example.com", {}, [])
    inner = mail.EmailMessage("inner", "hello", to=["b@example.com"])
    forwarded.attach("inner.eml", inner, "message/rfc822")
    message = forwarded.message()
    assert mime.flattened(message) is None
    assert message.as_bytes() == _generators(message, "\n")

    signed = _email("s", "text", "<p>x</p>", "a@example.com", {}, []).message()
    signed.set_type("multipart/signed")
    assert mime.flattened(signed) is None
    assert signed.as_bytes() == _generators(signed, "\n")

    plain = _email("s", "text", "<p>x</p>", "a@example.com", {}, []).message()
    plain.policy = plain.policy.clone()  # not ours: not written here
    assert mime.flattened(plain) is None
    assert plain.as_bytes() == _generators(plain, "\n")

    noted = _email("s", "text", "<p>x</p>", "a@example.com", {}, []).message()
    note = MIMEBase("message", "x-note")
    note.set_payload("line ends\nkept as they are")  # _handle_message: no conversion
    noted.attach(note)
    assert mime.flattened(noted, "\r\n") is None
    assert noted.as_bytes(linesep="\r\n") == _generators(noted, "\r\n")
    assert b"line ends\nkept" in noted.as_bytes(linesep="\r\n")

    framed = _email("s", "text", "<p>x</p>", "a@example.com", {}, []).message()
    assert framed.as_bytes(unixfrom=True).startswith(b"From nobody ")


def test_a_part_of_another_kind_is_written_as_the_generator_writes_it():
    message = _email("s", "text", "<p>x</p>", "a@example.com", {}, []).message()
    pdf = MIMEApplication(b"%PDF-1.4\n" + bytes(range(256)), "pdf")
    pdf.add_header("Content-Disposition", "attachment", filename="Zoë.pdf")
    message.attach(pdf)
    _both_ways(message)


def _values():
    """Header values around the line's length: words, runs and ends of white space,
    split characters, line breaks, empty and non-ASCII ones (seeded)."""
    rnd = random.Random(24)
    alphabet = " \t;,ab<>@.:=-\x0c\nž"
    for length in [0, 1, 2, 20, 60, 64, 65, 66, 67, 70, 77, 78, 79, 80, 120]:
        for _ in range(60):
            pool = alphabet if rnd.random() < 0.5 else "ab"
            yield "".join(rnd.choice(pool) for _ in range(length))
    yield formatdate()
    yield threads.message_id("HD-000042")
    yield threads.message_id("HD-1234567")
    yield "a" * 66  # "Message-ID: " + 66 = 78: fits
    yield "a" * 67  # one more: a continuation line
    yield "ends in a space "  # kept
    yield "ends in spaces  "
    yield " starts with one"


@pytest.mark.parametrize("linesep", LINESEPS)
def test_plainly_folded_headers_are_what_compat32_writes(linesep):
    written = 0
    for value in _values():
        for length in (78, 0, None, 30):
            ours = mime._plain_fold("Message-ID", value, linesep, length)
            try:
                theirs = Compat32(linesep=linesep, max_line_length=length)._fold(
                    "Message-ID", value, False
                )
            except HeaderParseError:
                assert ours is None
                continue
            assert ours in (None, theirs), value
            written += ours is not None
    assert written > 1000
    for value in (formatdate(), threads.message_id("HD-000042")):  # every email's
        assert mime._plain_fold("Date", value, linesep, 78) is not None


def _boundary_values(rng):
    boundary = f"==hd{uuid.UUID(int=rng.getrandbits(128)).hex}=="
    for subtype in ("alternative", "mixed", "related", "x-" + "y" * rng.randint(0, 60)):
        yield f'multipart/{subtype}; boundary="{boundary}"'
        yield f"multipart/{subtype};  boundary={boundary}"
        yield f'multipart/{subtype}; charset="utf-8"; boundary="{boundary}"; a=b'
        yield f'multipart/{subtype},boundary="{boundary}"'
        yield f"{boundary} {boundary[:9]}"
        yield f'multipart/{subtype}; boundary="{boundary}"{" " * rng.randint(0, 3)}'


@pytest.mark.parametrize("linesep", LINESEPS)
def test_headers_with_a_boundary_fold_as_compat32_folds_them(linesep):
    rng = random.Random(f"boundary-{linesep!r}")
    quick = 0
    for _ in range(120):
        for value in _boundary_values(rng):
            for name, length in [
                ("Content-Type", 78),
                ("Content-Type", 0),
                ("Content-Type", None),
                ("Content-Type", 30),
                ("X-" + "n" * rng.randint(1, 40), 78),
            ]:
                theirs = Compat32(linesep=linesep, max_line_length=length)._fold(
                    name, value, False
                )
                policy = mime.POLICY.clone(linesep=linesep, max_line_length=length)
                assert policy._fold(name, value, False) == theirs, (name, value)
                quick += (
                    mime._boundary_fold(name, value, False, linesep, length) is not None
                )
    assert quick > 2000
    # two boundaries, the stand-in itself, non-ASCII: folded as usual
    two = f'multipart/mixed; boundary="==hd{"a" * 32}=="; b="==hd{"b" * 32}=="'
    stand_in = f'multipart/mixed; boundary="{mime._BOUNDARY_STAND_IN}"'
    for value in (
        two,
        stand_in,
        "multipart/mixed; ż=1; boundary=" + "==hd" + "c" * 32 + "==",
    ):
        assert mime._boundary_fold("Content-Type", value, False, linesep, 78) is None


@pytest.mark.parametrize("where", ["subject", "html"])
def test_a_boundary_found_in_a_header_or_a_part_is_drawn_again(where):
    taken = uuid.UUID(int=7)
    text = f"x ==hd{taken.hex}== y"
    with mock.patch.object(
        mime.os,
        "urandom",
        side_effect=[taken.bytes, uuid.UUID(int=8).bytes, uuid.UUID(int=9).bytes],
    ):
        email = sending.Email(
            subject=text if where == "subject" else "s", body="b", to=["a@b.c"]
        )
        email.attach_alternative(text if where == "html" else "<p>x</p>", "text/html")
        message = email.message()
    assert message.get_boundary() == f"==hd{uuid.UUID(int=8).hex}=="
    _both_ways(message)


@pytest.mark.parametrize(
    "content_type",
    [
        "multipart/alternative",  # ours: written without parsing
        'multipart/mixed; charset="utf-8"',  # parameters: set_boundary
        " multipart/mixed",  # white space the parser strips: set_boundary
    ],
)
def test_a_boundary_is_set_as_set_boundary_sets_it(content_type):
    ours, theirs = (mime._Multipart(_subtype="mixed") for _ in range(2))
    for part in (ours, theirs):
        part.replace_header("Content-Type", content_type)
        part["Subject"] = "x"
    mime._set_boundary(ours, mime._content_type(ours), "==hdB==")
    theirs.set_boundary("==hdB==")
    assert ours._headers == theirs._headers
    found = mime._content_type(ours)
    assert mime._boundary(ours, found) == theirs.get_boundary() == "==hdB=="
    assert mime._handler_of(found[1]) is mime._handler(theirs.get_content_type())


def test_a_boundary_changed_after_it_was_set_is_read_from_the_header():
    email = _email("Hi", "Hello\n", "<p>Hello</p>", "a@example.com", {}, [])
    message = email.message()
    message.set_boundary("==hdOther==")  # a new stored value: parsed again
    assert mime._boundary(message, mime._content_type(message)) == "==hdOther=="
    for linesep in LINESEPS:
        assert message.as_bytes(linesep=linesep) == _generators(message, linesep)


def test_remembered_header_lines_are_what_the_policy_folds():
    policy, folded = mime.POLICY.clone(linesep="\r\n"), {}
    subject = "Zgłoszenie przyjęte: " + "drukarka się pali " * 8
    headers = [("Subject", subject), ("Date", formatdate())]
    headers.append(("X-Header", Header("Łódź", "utf-8")))
    expected = [policy.fold_binary(name, value) for name, value in headers]
    assert mime._header_lines(headers, policy, folded) == expected
    assert mime._header_lines(headers, policy, folded) == expected  # remembered
    # the Date too (the same in every email of one second), not a Header
    date = headers[1]
    assert list(folded) == [("Subject", subject), date, mime._LAST_DATE]
    later = ("Date", formatdate(0))
    assert mime._header_lines([later], policy, folded) == [policy.fold_binary(*later)]
    assert list(folded) == [("Subject", subject), later, mime._LAST_DATE]  # one Date


def test_the_thread_root_follows_the_key_and_the_domain(settings):
    settings.EMAIL_MESSAGE_ID_DOMAIN = "one.example"
    first = threads.thread_root("HD-000042")
    assert first == threads.message_id("HD-000042", "thread")
    settings.SECRET_KEY = "another-key-" + "x" * 40
    second = threads.thread_root("HD-000042")
    assert second != first
    assert second == threads.message_id("HD-000042", "thread")
    settings.EMAIL_MESSAGE_ID_DOMAIN = "two.example"
    assert threads.thread_root("HD-000042").endswith("@two.example>")


_ALPHABETS = (
    "abcdefghij klmnop ",
    "ąćęłńóśźż ĄĆĘŁŃÓŚŹŻ Zgłoszenie ",
    "абвгдеёжзийклмн опрстуфхцчшщъыьэюя ",
    "«»—–…€ &<>=?_ \t",
    "日本語テキスト😀🎉 ",
    "=?utf-8?q?_ ",
)


def _header_texts(seed, count):
    draw = random.Random(seed)
    for _ in range(count):
        alphabets = draw.sample(_ALPHABETS, draw.randint(1, 3))
        letters = "".join(alphabets)
        length = draw.choice((1, 2, 5, 20, 40, 60, 75, 76, 77, 78, 120, 300))
        yield "".join(draw.choice(letters) for _ in range(length))


def _lengths(first, rest):
    yield first
    while True:
        yield rest


@pytest.mark.parametrize("seed", range(4))
def test_header_lines_are_fitted_as_the_standard_library_fits_them(seed):
    """``_LineFittingCharset.header_encode_lines`` against ``Charset``'s on seeded
    texts (ASCII, Polish, Russian, punctuation, 4-byte characters; quoted-printable
    and base64 chosen by the text) and line lengths down to one that fits nothing."""
    from email.charset import Charset

    draw = random.Random(seed)
    for text in _header_texts(seed, 400):
        first, rest = (
            draw.choice((1, 5, 13, 30, 62, 66, 69, 76)),
            draw.choice((5, 13, 40, 66, 69, 76)),
        )
        assert mime._UTF8.header_encode_lines(text, _lengths(first, rest)) == Charset(
            "utf-8"
        ).header_encode_lines(text, _lengths(first, rest)), text


@pytest.mark.parametrize("name", ["Subject", "X-A-Rather-Long-Header-Name", "Keywords"])
def test_non_ascii_headers_are_checked_and_encoded_as_django_encodes_them(name):
    """``_checked`` (remembered per value) against Django's
    ``forbid_multi_line_headers``: the same folded RFC 2047 words for non-ASCII
    values, Django's own result for ASCII, address headers and other charsets, and
    the same error for a line break."""
    from django.core.mail.message import BadHeaderError, forbid_multi_line_headers

    for text in _header_texts(hash(name) % 1000, 300):
        for value in (text, f"[HD-12345] {text}", f"{text} {text}"):
            expected = forbid_multi_line_headers(name, value, "utf-8")
            assert mime._checked.__wrapped__(name, value, "utf-8") == expected, value
    assert mime._checked.__wrapped__(
        "To", "Łukasz <l@example.com>", "utf-8"
    ) == forbid_multi_line_headers("To", "Łukasz <l@example.com>", "utf-8")
    assert mime._checked.__wrapped__(
        "Subject", "Zgłoszenie", "iso-8859-2"
    ) == forbid_multi_line_headers("Subject", "Zgłoszenie", "iso-8859-2")
    with pytest.raises(BadHeaderError):
        mime._checked.__wrapped__("Subject", "Zgłoszenie\nBcc: x@example.com", "utf-8")
