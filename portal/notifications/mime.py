"""Notification emails built with less work per message, byte for byte the same MIME.

Over 400 lines on purpose: building and flattening share the boundary, folding and
part rules that keep the bytes the standard library's; the sections follow that order.

Flattening a message (what every backend does to send it) spends most of its time
folding headers and choosing multipart boundaries (profiled: ~40 % of delivering an
email on the console backend). ``prepare`` readies a message built by Django's
``EmailMultiAlternatives.message()`` (``sending.Email``) for flattening:

* **Remembered header folding.** Django's messages use the ``compat32`` policy, whose
  folding of a text header depends only on the header's name and value, the line
  separator and the line length: the result is remembered (most headers of a claim's
  emails are the same: MIME-Version, Content-Type, From, Reply-To, the thread's
  References, the subject of one ticket in one language). The values new in every
  email (Date, Message-ID) fold plainly (they fit, or are one word) and are written
  at once, without ``email.header.Header``.
* **Boundaries chosen before flattening.** The standard library flattens each part,
  then searches the text for a random boundary (a regular expression compiled per
  message). Here each multipart gets a random 128-bit boundary that is checked, as
  a plain substring, against every header and payload of the message (a stricter
  test than a boundary line), and drawn again on a collision. A multipart's one
  Content-Type header without parameters (as Django builds them) gets the value
  ``set_boundary`` writes without being parsed, and the boundary is read back from
  it without parsing while the stored value is unchanged.

* **Flattened without the generator.** ``as_bytes`` (what every backend calls)
  writes the message the way ``email.generator.BytesGenerator`` does, for the shapes
  our emails have (multiparts and single parts with a text payload, our policy), and
  hands anything else (a ``message/*`` or ``multipart/signed`` part, another policy,
  a Unix From line) to the generator. Same bytes, without a generator, a buffer
  and a policy clone per part and a dispatch by name per part. The folded bytes of
  each text header are remembered per line separator (the Date and Message-ID, new
  in every email, are folded each time); a part's type is read from its stored
  Content-Type value.

``Building`` (mixed into ``sending.Email``) builds the message with less work too,
to the same object Django's ``EmailMultiAlternatives.message()`` builds:

* **Remembered header checks.** Django checks and encodes every header it sets
  (``forbid_multi_line_headers``: no newline, RFC 2047 words for non-ASCII text,
  addresses sanitized), a function of the name, the value and the charset only. The
  result is remembered per process, except for the values that are new in every
  email (Date, Message-ID).
* **Text parts copied from a prototype.** A text part in UTF-8 with no line over 998
  bytes always has the same headers (Content-Type with the charset, MIME-Version,
  Content-Transfer-Encoding ``7bit`` for ASCII text, else ``8bit``) and the text's
  UTF-8 bytes as its payload (what ``Message.set_payload`` stores). The first part
  of each subtype and kind is built by Django's ``SafeMIMEText``; the others are
  copies of it with their own payload. A text with a longer line (quoted-printable,
  Django's rule) or another charset is built by Django as before.
* **Our emails without the generic steps.** An email of the shape every
  notification has (a UTF-8 text body, one HTML alternative, no attachment, no Cc or
  Reply-To list, a thread's extra headers) is built as the same steps would build
  it, without them (``_alternatives_message``): its multipart copied from a
  prototype, each header's checked pair appended (what ``Message.__setitem__`` does
  under ``compat32``), its one boundary drawn as ``prepare`` draws it. A short ASCII
  subject is its own checked value (``Header`` would not change it).
"""

import functools
import os
import re
import time
from email import base64mime, generator, quoprimime
from email._policybase import Compat32
from email.charset import RFC2047_CHROME_LEN, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import message as django_message
from django.core.mail.message import (
    ADDRESS_HEADERS,
    RFC5322_EMAIL_LINE_LENGTH_LIMIT,
    EmailMultiAlternatives,
    SafeMIMEMultipart,
    SafeMIMEText,
    forbid_multi_line_headers,
)

from . import kept_settings


@functools.lru_cache(maxsize=2048)
def _folded(name: str, value: str, sanitize: bool, linesep: str, length) -> str:
    return Compat32(linesep=linesep, max_line_length=length)._fold(
        name, value, sanitize
    )


#: ASCII characters ``str.splitlines`` ends a line at (``Header.encode`` splits there)
_LINE_BREAKING = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e")


def _plain_fold(name: str, value: str, linesep: str, length) -> str | None:
    """What ``Compat32._fold`` gives for an ASCII value of one line that needs no
    folding decision, or None (then it is folded by ``Header``). Two cases, which
    ``Header.encode`` writes without changing anything: a value that fits on the
    header's line (kept as it is), and one word too long for it (no white space:
    it goes on a continuation line of its own, after a line break and a space),
    whatever the sanitizing (no surrogates in ASCII). The values new in every email (Date, Message-ID) are
    of these kinds; the oracle is in ``tests/test_flattening.py``."""
    if not value or not value.isascii() or not _LINE_BREAKING.isdisjoint(value):
        return None
    if len(name) + 2 + len(value) <= (length or 1_000_000):
        return f"{name}: {value}{linesep}"
    if " " in value or "\t" in value:
        return None
    return f"{name}: {linesep} {value}{linesep}"


#: our multipart boundaries (``_set_boundaries``), and the one every other stands for
_OUR_BOUNDARY = re.compile(r"==hd[0-9a-f]{32}==")
_BOUNDARY_HEAD = "==hd"
_BOUNDARY_STAND_IN = _BOUNDARY_HEAD + "0" * 32 + "=="
_STAND_IN_BYTES = _BOUNDARY_STAND_IN.encode("ascii")


def _boundary_fold(name, value, sanitize, linesep, length) -> str | None:
    """How a value with one of our boundaries in it folds (a multipart's
    Content-Type, too long for one line: every email's is new), from the fold of the
    same value with the stand-in boundary, remembered: ``Header`` breaks an ASCII
    value only at white space and ``;``/``,``, and decides by lengths alone, so two
    boundaries of the same length made of the same kind of characters (hex digits
    and ``=``) fold alike. None if the value is not of that kind (then folded as
    usual); the oracle is in ``tests/test_flattening.py``."""
    if not value.isascii() or _BOUNDARY_STAND_IN in value:
        return None
    found = _OUR_BOUNDARY.findall(value)
    if len(found) != 1:
        return None
    folded = _folded(
        name, value.replace(found[0], _BOUNDARY_STAND_IN), sanitize, linesep, length
    )
    if folded.count(_BOUNDARY_STAND_IN) != 1:
        return None
    return folded.replace(_BOUNDARY_STAND_IN, found[0])


class _RememberedFolding(Compat32):
    """``compat32``, remembering how text headers fold (nothing else differs); the
    values that fold plainly (``_plain_fold``) are written without ``Header``, and
    one with a boundary of ours as the same value with the stand-in boundary
    (``_boundary_fold``)."""

    def _fold(self, name, value, sanitize):
        if type(value) is not str:  # a Header object: folded as usual
            return super()._fold(name, value, sanitize)
        plain = _plain_fold(name, value, self.linesep, self.max_line_length)
        if plain is not None:
            return plain
        if "==hd" in value:
            folded = _boundary_fold(
                name, value, sanitize, self.linesep, self.max_line_length
            )
            if folded is not None:
                return folded
        return _folded(name, value, sanitize, self.linesep, self.max_line_length)


POLICY = _RememberedFolding()


def _texts(part) -> list[str]:
    """Every header name and value and every payload of ``part`` as stored (``items``
    and ``get_payload`` would parse each for reading; a boundary is ASCII, and the
    ASCII in a stored text is what is written)."""
    found = [text for header in part._headers for text in header]
    payload = part._payload
    if isinstance(payload, list):
        for child in payload:
            found += _texts(child)
    elif payload is not None:
        found += (payload,)
    for extra in (part.preamble, part.epilogue):
        if extra:
            found += (extra,)
    return found


def _boundaries_in(part) -> str:
    """What a new boundary of ours is checked against: the stored texts of ``part``
    in which one can be found (those holding ``==hd``), joined by line breaks. A
    boundary has no line break, colon or space, so it is in a header line
    (``name: value``), or in all the texts joined, only where it is in one name,
    value or payload: the same test without copying every text into one."""
    return "\n".join(
        [text for text in map(str, _texts(part)) if _BOUNDARY_HEAD in text]
    )


#: header names of our messages that are not Content-Type in any case
_NOT_CONTENT_TYPE = frozenset(
    {
        "MIME-Version",
        "Content-Transfer-Encoding",
        "Subject",
        "From",
        "To",
        "Reply-To",
        "Date",
        "Message-ID",
        "In-Reply-To",
        "References",
    }
)


def _content_type(part) -> tuple[int, str] | None:
    """The place and stored value of ``part``'s Content-Type header when it has
    exactly one and it is ASCII text (what ``get`` gives back unchanged), else None."""
    found = None
    headers = part._headers
    if (
        headers
        and headers[0][0] == "Content-Type"
        and _NOT_CONTENT_TYPE.issuperset([name for name, _ in headers[1:]])
    ):  # as our parts are built: the same as looking at every name
        found = 0, headers[0][1]
        headers = ()
    for index, (name, value) in enumerate(headers):
        if name.lower() == "content-type":
            if found is not None:
                return None
            found = index, value
    if found is None or type(found[1]) is not str or not found[1].isascii():
        return None
    return found


#: what a Content-Type value without parameters may hold (``_parseparam`` then gives
#: the bare type alone; no quote, escape, ``=`` or ``;``)
_NO_PARAMETERS = frozenset(';="\\')


def _without_parameters(found: tuple[int, str] | None) -> bool:
    return (
        found is not None
        and _NO_PARAMETERS.isdisjoint(found[1])
        and found[1] == found[1].strip()
    )


def _set_boundary(part, found, boundary: str) -> None:
    """``part.set_boundary(boundary)``. For the one Content-Type header without
    parameters (``found``, as our multiparts are built) the value it writes is the
    type, ``; ``, and the quoted boundary, through the part's policy; it is
    remembered for ``_boundary``. Any other header goes through ``set_boundary``."""
    if not _without_parameters(found):
        part.set_boundary(boundary)
        return
    index, value = found
    header = part.policy.header_store_parse(
        part._headers[index][0], f'{value}; boundary="{boundary}"'
    )
    part._headers[index] = header
    part._hd_boundary = (header[1], boundary)


def _set_boundaries(message) -> None:
    texts = None
    for part in message.walk():
        if not part.is_multipart():
            continue
        found = _content_type(part)
        # no parameters: no boundary (``get_boundary`` would parse to None)
        if not _without_parameters(found) and part.get_boundary():
            continue
        if texts is None:
            # one text, the stored ones joined by a line break: a boundary has none,
            # so it is in the joined text only where it is in one of them
            texts = _boundaries_in(message)
        while True:
            boundary = f"==hd{os.urandom(16).hex()}=="
            if boundary not in texts:
                break
        _set_boundary(part, found, boundary)
        texts += "\n" + boundary  # one message's boundaries differ from each other


def _boundary(part, found) -> str | None:
    """``part.get_boundary()``, without parsing the header again when it is still the
    value ``_set_boundary`` wrote (the same stored text)."""
    remembered = part.__dict__.get("_hd_boundary")
    if remembered is not None and found is not None and found[1] is remembered[0]:
        return remembered[1]
    return part.get_boundary()


# --- flattening ---------------------------------------------------------------------

_SPLIT_LINES = generator.NLCRE.split  # the generator's line ends: \r\n, \r or \n

#: per line separator: the policy, and the headers it folded (``_header_lines``)
_linesep_policies: dict[str, tuple[Compat32, dict]] = {}
_FOLDED_MAX = 4096

#: headers new in every email, folded each time (never remembered)
_NEW_EACH_TIME = frozenset({"Date", "Message-ID"})


def _header_lines(headers, policy, folded: dict) -> list[bytes]:
    """``policy.fold_binary`` of each stored header. Our policy folds a text header
    by its name and value alone (``_RememberedFolding``), so the bytes of a text
    value are remembered per line separator, except for the values new in every
    email; a ``Header`` object is folded each time."""
    try:  # remembered ones read without a call
        return [
            folded[item] if item in folded else _header_line(item, policy, folded)
            for item in headers
        ]
    except TypeError:  # a value that is no key (a ``Header`` object)
        return [_header_line(item, policy, folded) for item in headers]


def _header_line(item, policy, folded: dict) -> bytes:
    name, value = item
    if type(value) is not str:
        return policy.fold_binary(name, value)
    if name in _NEW_EACH_TIME:
        if policy.__class__ is _RememberedFolding:
            # ``fold_binary``'s ``_fold`` of a value that folds plainly, encoded as
            # it encodes it
            plain = _plain_fold(name, value, policy.linesep, policy.max_line_length)
            if plain is not None:
                line = plain.encode("ascii", "surrogateescape")
                if name == "Date":
                    # the same in every email of one second: remembered until the
                    # next one is written
                    folded.pop(folded.pop(_LAST_DATE, None), None)
                    folded[item] = line
                    folded[_LAST_DATE] = item
                return line
        return policy.fold_binary(name, value)
    if _BOUNDARY_HEAD in value and policy.__class__ is _RememberedFolding:
        line = _boundary_line(name, value, policy, folded)
        if line is not None:
            return line
    line = folded[name, value] = policy.fold_binary(name, value)
    return line


#: where ``folded`` and ``_pairs`` name the Date header they remember (one at a time)
_LAST_DATE = object()


def _boundary_line(name: str, value: str, policy, folded: dict) -> bytes | None:
    """``policy.fold_binary(name, value)`` for a value holding one boundary of ours
    (a multipart's Content-Type: new in every email), from the remembered line of the
    same value with the stand-in boundary; not remembered itself. What
    ``_RememberedFolding._fold`` gives: a plain fold or ``_boundary_fold`` decide by
    lengths and white space alone, alike for both boundaries. None for any other
    value (folded as usual)."""
    found = _OUR_BOUNDARY.findall(value)
    if len(found) != 1 or not value.isascii() or _BOUNDARY_STAND_IN in value:
        return None
    key = ("boundary", name, value.replace(found[0], _BOUNDARY_STAND_IN))
    template = folded.get(key)
    if template is None:
        template = policy.fold_binary(name, key[2])
        if template.count(_STAND_IN_BYTES) != 1:
            template = b""
        folded[key] = template
    if not template:
        return None
    return template.replace(_STAND_IN_BYTES, found[0].encode("ascii"))


def _lines(text: str, linesep: str) -> bytes:
    """``Generator._write_lines`` through ``BytesGenerator.write``: each line end
    made ``linesep``, no line end added, surrogates back to their bytes. A text
    without a carriage return (what our templates render) ends its lines with line
    feeds only: made ``linesep`` by one replacement, not a split at every line."""
    if "\r" not in text:
        if linesep != "\n":
            text = text.replace("\n", linesep)
        return text.encode("ascii", "surrogateescape")
    return linesep.join(_SPLIT_LINES(text)).encode("ascii", "surrogateescape")


_TEXT = generator.BytesGenerator._handle_text
_MULTIPART = generator.BytesGenerator._handle_multipart


@functools.lru_cache(maxsize=64)
def _handler_of(value: str):
    """``_handler`` of the type ``get_content_type`` reads from the stored ASCII
    Content-Type ``value`` (the part before any ``;``, stripped and lowercased; not
    one slash: text/plain)."""
    content_type = value.partition(";")[0].strip().lower()
    if content_type.count("/") != 1:
        content_type = "text/plain"
    return _handler(content_type)


@functools.lru_cache(maxsize=64)
def _handler(content_type: str):
    """The generator's method for a part of ``content_type``, found as
    ``Generator._dispatch`` finds it."""
    main, sub = content_type.split("/")  # get_content_type gives one slash
    return (
        getattr(
            generator.BytesGenerator, f"_handle_{main}_{sub}".replace("-", "_"), None
        )
        or getattr(generator.BytesGenerator, "_handle_" + main.replace("-", "_"), None)
        or generator.BytesGenerator._writeBody
    )


#: the headers of our text parts (``text_part``'s prototypes)
_TEXT_PART_HEADERS = frozenset(
    {"Content-Type", "MIME-Version", "Content-Transfer-Encoding"}
)

#: the usual line separators' bytes (``linesep.encode("ascii")``)
_SEPARATORS = {"\n": b"\n", "\r\n": b"\r\n"}


def _write(part, policy, linesep: str, out: list, folded: dict) -> bool:
    """Append ``part`` to ``out`` as ``BytesGenerator`` writes it (compat32's
    ``cte_type`` 8bit, no From mangling: Django's ``as_bytes``); False, with ``out``
    to be discarded, for a part this does not write (the generator does)."""
    cls = part.__class__
    if (
        (cls is not _Text and cls is not _Multipart)  # ours have no such method
        or "_write_headers" in part.__dict__
    ) and hasattr(part, "_write_headers"):  # a part that writes its own headers
        return False
    payload = part._payload
    stored = part._headers
    key = block = None
    if payload.__class__ is not list:  # a kept text part's block is for a text
        key = ("text part", *stored)
        try:
            block = folded.get(key)
        except TypeError:  # a value that is no key (a ``Header`` object)
            key = block = None
    if block is not None:
        # the same stored headers as a text part written before (the prototype's,
        # in every email): a text part again, its header lines and the blank line
        if payload is not None and type(payload) is not str:
            return False
        out += (block, _lines(payload, linesep)) if payload else (block,)
        return True
    found = _content_type(part)
    if found is None:  # none (the default type), several, or not ASCII text
        handler = _handler(part.get_content_type())
    else:
        handler = _handler_of(found[1])
    sep = _SEPARATORS[linesep] if linesep in _SEPARATORS else linesep.encode("ascii")
    if handler is _TEXT and _TEXT_PART_HEADERS.issuperset([n for n, _ in stored]):
        # a text part's headers (the prototype's, in every email): their lines and
        # the blank line, remembered whole by the stored headers when they name the
        # type (the same headers: the same handler; a ``Header`` value: not kept)
        block = b"".join(_header_lines(stored, policy, folded)) + sep
        if key is not None and found is not None:
            folded[key] = block
        headers = [block]
    else:
        headers = _header_lines(stored, policy, folded)
        headers += (sep,)
    if handler is _MULTIPART:
        if type(payload) is not list:
            return False
        boundary = _boundary(part, found)
        if not boundary:  # the generator would draw one
            return False
        out += headers
        if part.preamble is not None:
            out += (_lines(part.preamble, linesep), sep)
        delimiter = f"--{boundary}".encode("ascii", "surrogateescape")
        between = sep + delimiter + sep
        # each child written into ``out`` after its delimiter line (the generator
        # joins the children's texts by the delimiter lines: the same bytes)
        for index, child in enumerate(payload):
            out += (between if index else delimiter + sep,)
            if not _write(child, policy, linesep, out, folded):
                return False
        out += (sep + delimiter + b"--" + sep,)
        if part.epilogue is not None:
            out += (_lines(part.epilogue, linesep),)
        return True
    if handler is not _TEXT or (payload is not None and type(payload) is not str):
        return False
    out += headers
    if payload:
        out += (_lines(payload, linesep),)
    return True


def flattened(message, linesep: str = "\n") -> bytes | None:
    """``message`` as Django's ``as_bytes(linesep=linesep)`` writes it, or None when
    it is not ours to write (not prepared with our policy, or a part of a kind only
    the generator writes)."""
    if message.policy is not POLICY:
        return None
    known = _linesep_policies.get(linesep)
    if known is None:
        known = _linesep_policies[linesep] = (POLICY.clone(linesep=linesep), {})
    policy, folded = known
    if len(folded) > _FOLDED_MAX:
        folded.clear()
    out: list[bytes] = []
    if not _write(message, policy, linesep, out, folded):
        return None
    return b"".join(out)


class _Flat:
    """``as_bytes`` by ``flattened`` where it applies, else Django's (the generator)."""

    def as_bytes(self, unixfrom=False, linesep="\n"):
        if not unixfrom:
            written = flattened(self, linesep)
            if written is not None:
                return written
        return super().as_bytes(unixfrom=unixfrom, linesep=linesep)


def prepare(message):
    """``message`` with the remembered folding and its boundaries set."""
    message.policy = POLICY
    _set_boundaries(message)
    return message


# --- building -----------------------------------------------------------------------

#: headers whose values are new in every email: checked each time, not remembered
_UNIQUE = frozenset({"date", "message-id"})


#: the bytes the quoted-printable header encoding writes as one character (themselves,
#: or ``_`` for a space); each other byte takes three (``=XX``)
_QP_ONE_CHARACTER = bytes(
    byte for byte in range(256) if len(quoprimime._QUOPRI_HEADER_MAP[byte]) == 1
)


class _LineFittingCharset(Charset):
    """UTF-8's ``Charset``, whose ``header_encode_lines`` gives the standard
    library's lines with less work. The standard one fits encoded words on lines
    by encoding each growing line again, one character more each time, and
    measuring it (``quoprimime.header_length`` looks at every byte: quadratic in
    the line's length, ~1.9k calls for a Polish subject). UTF-8 encodes each
    character on its own, and both measures are sums over the bytes (quoted-
    printable: one or three characters a byte) or of the byte count (base64), so
    the length of the line with one character more is the length so far plus that
    character's: the same decisions, the same lines. Anything but UTF-8 is the
    standard library's. The oracle is in ``tests/test_flattening.py``."""

    def header_encode_lines(self, string, maxlengths):
        codec = self.output_codec or "us-ascii"
        charset = self.get_output_charset()
        if codec != "utf-8" or charset != "utf-8":
            return super().header_encode_lines(string, maxlengths)
        module = self._get_encoder(string.encode(codec))
        if module is quoprimime:
            quoted = True
        elif module is base64mime:
            quoted = False
        else:
            return super().header_encode_lines(string, maxlengths)
        extra = len(charset) + RFC2047_CHROME_LEN
        lines = []
        start = 0  # where the current line begins in ``string``
        size = 0  # its quoted-printable length, or its bytes (base64)
        maxlen = next(maxlengths) - extra
        for index, character in enumerate(string):
            data = character.encode(codec)
            if quoted:
                added = len(data) + 2 * len(data.translate(None, _QP_ONE_CHARACTER))
            else:
                added = len(data)
            size += added
            length = size if quoted else -(-size // 3) * 4
            if length > maxlen:
                if not lines and index == start:  # nothing fits on the first line
                    lines.append(None)
                else:
                    lines.append(
                        module.header_encode(
                            string[start:index].encode(codec), charset=codec
                        )
                    )
                start, size = index, added
                maxlen = next(maxlengths) - extra
        lines.append(module.header_encode(string[start:].encode(codec), charset=codec))
        return lines


_UTF8 = _LineFittingCharset("utf-8")


#: a length every ASCII subject of one line keeps through ``Header`` (whose lines
#: are ``email.header.MAXLINELEN``, 78, long)
_HEADER_LINE = 76


@functools.lru_cache(maxsize=4096)
def _checked(name: str, value: str, encoding: str) -> tuple[str, str]:
    """``forbid_multi_line_headers``; a non-ASCII UTF-8 value of a header that is
    not an address is encoded as it encodes it (``Header(value, encoding)``), with
    the charset that fits lines with less work. An ASCII subject of one line that
    of at most 76 characters is the value itself (``Header(value).encode()``
    changes nothing there; the oracle is in ``tests/test_whole_message.py``)."""
    if (
        len(value) <= _HEADER_LINE
        and value.isascii()
        and _LINE_BREAKING.isdisjoint(value)
        and name.lower() == "subject"
    ):
        return name, value
    if (
        encoding != "utf-8"
        or value.isascii()
        or "\n" in value
        or "\r" in value
        or name.lower() in ADDRESS_HEADERS
    ):
        return forbid_multi_line_headers(name, value, encoding)
    return name, Header(value, _UTF8).encode()


def _safe_header(name, value, encoding):
    """Django's ``forbid_multi_line_headers``, remembered for the same arguments."""
    value = str(value)  # may be lazy
    if encoding is None or name.lower() in _UNIQUE:
        return forbid_multi_line_headers(name, value, encoding)
    return _checked(name, value, encoding)


class _Text(_Flat, SafeMIMEText):
    def __setitem__(self, name, val):
        name, val = _safe_header(name, val, self.encoding)
        MIMEText.__setitem__(self, name, val)


class _Multipart(_Flat, SafeMIMEMultipart):
    def __setitem__(self, name, val):
        name, val = _safe_header(name, val, self.encoding)
        MIMEMultipart.__setitem__(self, name, val)


_prototypes: dict[tuple[str, bool], SafeMIMEText] = {}


def _copied(prototype):
    """``copy.copy(prototype)`` (a new instance with the same ``__dict__``: what
    ``__reduce_ex__`` and ``copyreg.__newobj__`` make of a message) with a list of
    headers of its own."""
    part = object.__new__(prototype.__class__)
    part.__dict__ = {**prototype.__dict__, "_headers": list(prototype._headers)}
    return part


_multiparts: dict[tuple[str, str], SafeMIMEMultipart] = {}


def _multipart(subtype: str, encoding: str) -> SafeMIMEMultipart:
    """What ``_Multipart(_subtype=subtype, encoding=encoding)`` builds (its
    Content-Type and MIME-Version headers, no parts), copied from a prototype."""
    prototype = _multiparts.get((subtype, encoding))
    if prototype is None:
        prototype = _multiparts[subtype, encoding] = _Multipart(
            _subtype=subtype, encoding=encoding
        )
    part = _copied(prototype)
    part._payload = []
    part.defects = []
    return part


def text_part(text: str, subtype: str, encoding: str) -> SafeMIMEText:
    """What ``SafeMIMEText(text, subtype, encoding)`` builds, copied from the
    prototype of its subtype and kind (ASCII or not) when the text needs no
    quoted-printable encoding."""
    data = text.encode()  # raises for lone surrogates, as Django's part does
    if encoding != "utf-8" or (
        # no line is longer than the text; bytes split on fewer line ends than
        # str.splitlines: never shorter lines
        len(data) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        and max(map(len, data.splitlines())) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
    ):
        return _Text(text, subtype, encoding)
    key = (subtype, text.isascii())
    prototype = _prototypes.get(key)
    if prototype is None:
        prototype = _prototypes[key] = _Text(text, subtype, encoding)
    part = _copied(prototype)
    part.defects = []
    part._payload = data.decode("ascii", "surrogateescape")
    return part


class Building:
    """Mixed into Django's ``EmailMultiAlternatives`` (``sending.Email``): its message
    built and flattened with less work, to the same bytes. ``message`` follows Django 5.2's ``EmailMessage.message`` step by
    step; only the classes differ (subclasses remembering header checks) and text
    parts come from ``text_part``. The byte-for-byte oracle is in
    ``portal/notifications/tests/test_batched_delivery.py``."""

    def message(self):
        fast = _alternatives_message(self)
        if fast is not None:
            return fast
        encoding = self.encoding or settings.DEFAULT_CHARSET
        msg = text_part(self.body, self.content_subtype, encoding)
        msg = self._create_message(msg)
        msg["Subject"] = self.subject
        msg["From"] = self.extra_headers.get("From", self.from_email)
        self._set_list_header_if_not_empty(msg, "To", self.to)
        self._set_list_header_if_not_empty(msg, "Cc", self.cc)
        self._set_list_header_if_not_empty(msg, "Reply-To", self.reply_to)
        header_names = [key.lower() for key in self.extra_headers]
        if "date" not in header_names:
            msg["Date"] = django_message.formatdate(
                localtime=settings.EMAIL_USE_LOCALTIME
            )
        if "message-id" not in header_names:
            msg["Message-ID"] = django_message.make_msgid(
                domain=django_message.DNS_NAME
            )
        for name, value in self.extra_headers.items():
            if name.lower() not in {"from", "to", "cc", "reply-to"}:
                msg[name] = value
        return prepare(msg)

    def _create_alternatives(self, msg):
        encoding = self.encoding or settings.DEFAULT_CHARSET
        if self.alternatives:
            body_msg = msg
            msg = _Multipart(_subtype=self.alternative_subtype, encoding=encoding)
            if self.body:
                msg.attach(body_msg)
            for alternative in self.alternatives:
                msg.attach(
                    self._create_mime_attachment(
                        alternative.content, alternative.mimetype
                    )
                )
        return msg

    def _create_attachments(self, msg):
        if self.attachments:
            encoding = self.encoding or settings.DEFAULT_CHARSET
            body_msg = msg
            msg = _Multipart(_subtype=self.mixed_subtype, encoding=encoding)
            if self.body or body_msg.is_multipart():
                msg.attach(body_msg)
            for attachment in self.attachments:
                if isinstance(attachment, MIMEBase):
                    msg.attach(attachment)
                else:
                    msg.attach(self._create_attachment(*attachment))
        return msg

    def _create_mime_attachment(self, content, mimetype):
        basetype, subtype = mimetype.split("/", 1)
        if basetype == "text":
            return text_part(
                content, subtype, self.encoding or settings.DEFAULT_CHARSET
            )
        return super()._create_mime_attachment(content, mimetype)


#: extra headers ``_alternatives_message`` writes as ``message`` does (exact names)
_PLAIN_EXTRA = frozenset({"Message-ID", "In-Reply-To", "References", "Reply-To"})


#: headers whose values are new in every email, by their exact names
_NEW_NAMES = ("Date", "Message-ID")

#: (name, value) -> the pair ``_checked`` gives for UTF-8 (a value new in every
#: email is never kept)
_pairs: dict[tuple[str, str], tuple[str, str]] = {}
_PAIRS_MAX = 4096


def _checked_pair(pair: tuple[str, str]) -> tuple[str, str]:
    """What ``_Text``/``_Multipart``'s ``msg[name] = value`` appends for a UTF-8 part
    under ``compat32`` (whose ``header_max_count`` is None and ``header_store_parse``
    the pair itself): the pair ``_safe_header`` checks."""
    name, value = pair
    if name in _NEW_NAMES and value.isascii():
        # ``forbid_multi_line_headers`` of an ASCII value of a header that is neither
        # an address nor the subject is the value itself
        if "\n" in value or "\r" in value:
            forbid_multi_line_headers(name, value, "utf-8")  # raises
        if name == "Date":  # the same in every email of one second: kept until the next
            _pairs.pop(_pairs.pop(_LAST_DATE, None), None)
            _pairs[pair] = pair
            _pairs[_LAST_DATE] = pair
        return pair
    if name in _NEW_NAMES:
        return forbid_multi_line_headers(name, value, "utf-8")
    found = _checked(name, value, "utf-8")
    if len(_pairs) >= _PAIRS_MAX:
        _pairs.clear()
    _pairs[pair] = found
    return found


def _alternatives_texts(msg) -> str:
    """What ``_alternatives_message``'s boundary is checked against: every stored
    name, value and payload of its multipart and two text parts, joined by line
    breaks (a boundary has none: in the joined text only where in one of them, as
    with ``_boundaries_in``), read as they are stored (all text; no preamble)."""
    parts = (msg, *msg._payload)
    texts = [text for part in parts for pair in part._headers for text in pair]
    for part in msg._payload:
        texts += (part._payload,)
    return "\n".join(texts)


#: the last Date value made: (localtime, from, until, ``formatdate`` used, value)
_last_date: tuple = (None, 0.0, 0.0, None, "")


def _date(localtime: bool) -> str:
    """``formatdate(localtime=localtime)`` as Django's ``message`` calls it: the same
    text for every email of one second, so made once a second. ``formatdate`` writes
    the whole seconds of the time rounded to microseconds: a time between a whole
    second and a microsecond before the next one gives that second's text."""
    global _last_date
    now = time.time()
    kept_localtime, start, until, made_by, value = _last_date
    formatdate = django_message.formatdate  # looked up each time: tests replace it
    if kept_localtime is localtime and start <= now < until and made_by is formatdate:
        return value
    value = formatdate(now, localtime=localtime)
    start = float(int(now))
    if now < start + 0.999999:
        _last_date = (localtime, start, start + 0.999999, formatdate, value)
    return value


def _alternatives_message(email):
    """``Building.message`` of the emails we send, built without its generic steps:
    a UTF-8 text body and one HTML alternative, no attachments, no Cc or Reply-To
    list, extra headers only among ``_PLAIN_EXTRA`` (a thread's). The same steps in
    the same order (text part, multipart/alternative, Subject, From, To, Reply-To,
    Date, Message-ID, the extra headers in their order, then ``prepare``); any other
    email (None) is built step by step. The oracle is in ``tests/test_flattening.py``."""
    extra = email.extra_headers
    known = kept_settings.kept()
    if (
        (email.encoding or known.default_charset) != "utf-8"
        or email.attachments
        or email.cc
        or email.reply_to
        or not email.body
        or not email.to
        or len(email.alternatives) != 1
        or email.alternatives[0][1] != "text/html"
        or email.alternative_subtype != "alternative"
        or email.content_subtype != "plain"
        or not _PLAIN_EXTRA.issuperset(extra)
        or email.__class__._create_message is not EmailMultiAlternatives._create_message
    ):
        return None
    msg = _multipart("alternative", "utf-8")
    msg._payload += (
        text_part(email.body, "plain", "utf-8"),
        text_part(email.alternatives[0][0], "html", "utf-8"),
    )
    pairs = [
        ("Subject", email.subject),
        ("From", email.from_email),
        ("To", ", ".join(map(str, email.to))),
    ]
    if "Reply-To" in extra:
        pairs += (("Reply-To", extra["Reply-To"]),)
    pairs += (("Date", _date(known.email_use_localtime)),)
    if "Message-ID" not in extra:
        domain = django_message.DNS_NAME
        pairs += (("Message-ID", django_message.make_msgid(domain=domain)),)
    for name in extra:
        if name != "Reply-To":
            pairs += ((name, extra[name]),)
    # each value as text (a lazy one, say), then checked as ``msg[name] = value``
    headers = msg._headers
    for name, value in pairs:
        pair = (name, value if value.__class__ is str else str(value))
        headers += (_pairs[pair] if pair in _pairs else _checked_pair(pair),)
    # ``prepare``: one multipart, its Content-Type first and without parameters
    msg.policy = POLICY
    texts = _alternatives_texts(msg)
    while True:
        boundary = f"==hd{os.urandom(16).hex()}=="
        if boundary not in texts:
            break
    _set_boundary(msg, (0, msg._headers[0][1]), boundary)
    return msg
