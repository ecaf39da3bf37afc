"""One RFC 5322 message → what the intake needs, with the standard library's ``email``
package (``policy.default``).

Never raises on bad input: a malformed MIME structure, an unknown or wrong character
set, undecodable headers all give the best text available (defects are listed). HTML
goes through nh3 (the project's HTML sanitiser) and is turned into readable text;
quoted history and signatures are stripped with mail-parser-reply.
"""

import email
import hashlib
import mimetypes
import re
from dataclasses import dataclass, field
from email import policy
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3
from mailparser_reply import EmailReplyParser

REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "pre",
    "ul", "ol", "table",
}  # fmt: skip
_KEPT_TAGS = _BLOCK_TAGS | {"blockquote", "td", "th", "a", "b", "i", "strong", "em"}
_AUTOMATED_SENDERS = ("mailer-daemon", "postmaster", "noreply-dmarc-support")


@dataclass
class Attachment:
    name: str
    content: bytes
    content_type: str
    inline: bool = False


@dataclass
class ParsedEmail:
    message_id: str
    key: str
    sender: str
    sender_name: str
    subject: str
    recipients: list[str]
    cc: list[str]
    in_reply_to: str
    references: str
    text: str
    html_only: bool
    attachments: list[Attachment] = field(default_factory=list)
    headers: list[tuple[str, str]] = field(default_factory=list)
    automated: str = ""  # why it is an auto-reply, bounce or bulk mail; "" if not
    authentication_results: list[str] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)

    def header_text(self) -> str:
        return "\n".join(f"{name}: {value}" for name, value in self.headers)


def _header(message, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # a header the parser cannot make sense of: its raw text
        value = next(
            (v for k, v in message.raw_items() if k.lower() == name.lower()), ""
        )
    return " ".join(str(value or "").replace("\x00", "").split())


def _all(message, name: str) -> list[str]:
    try:
        return [str(v) for v in message.get_all(name) or []]
    except Exception:
        return [str(v) for k, v in message.raw_items() if k.lower() == name.lower()]


def _decode(part) -> str:
    """The text of a text part: its declared charset, else UTF-8, never an error."""
    payload = part.get_payload(decode=True) or b""
    for charset in (part.get_content_charset(), "utf-8"):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("latin-1")


class _TextMaker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.quoted = 0

    def handle_starttag(self, tag, attrs):
        if tag == "blockquote":
            self.quoted += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in ("td", "th"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "blockquote":
            self.quoted = max(0, self.quoted - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.quoted:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Sanitise (nh3) and flatten HTML to text; quoted history (blockquote) goes."""
    clean = nh3.clean(html, tags=_KEPT_TAGS, attributes={}, link_rel=None)
    maker = _TextMaker()
    maker.feed(clean)
    maker.close()
    text = "".join(maker.parts)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def strip_reply(text: str) -> str:
    """The new part of a reply: quoted history and signature removed (falls back to
    the whole text when nothing would remain)."""
    try:
        parsed = EmailReplyParser(languages=REPLY_LANGUAGES).read(text=text)
        body = parsed.replies[0].body.strip() if parsed.replies else ""
    except Exception:  # the library must never cost us a message
        body = ""
    return body or text.strip()


def _automated(message, sender: str) -> str:
    auto = _header(message, "Auto-Submitted").lower()
    if auto and auto != "no":
        return f"auto-submitted ({auto})"
    precedence = _header(message, "Precedence").lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"bulk mail (Precedence: {precedence})"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if name == "X-Auto-Response-Suppress":
            continue
        if _header(message, name):
            return f"auto-reply ({name})"
    local = sender.split("@", 1)[0].lower()
    if local in _AUTOMATED_SENDERS or not sender:
        return f"automated sender ({sender or 'none'})"
    if message.get_content_type() == "multipart/report":
        return "delivery report (bounce)"
    return ""


def _filename(part, index: int) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if name:
        return str(name)
    extension = mimetypes.guess_extension(part.get_content_type()) or ".bin"
    return f"inline-{index}{extension}"


def parse(raw: bytes) -> ParsedEmail:
    message = email.message_from_bytes(raw, policy=policy.default)
    defects = [type(d).__name__ for d in message.defects]
    sender_name, sender = parseaddr(_header(message, "From"))
    sender = sender.strip().lower() if "@" in sender else ""
    message_id = _header(message, "Message-ID")
    key_source = message_id.encode("utf-8", "replace") if message_id else raw
    recipients = [
        address.lower()
        for _name, address in getaddresses(
            _all(message, "To") + _all(message, "Cc") + _all(message, "Delivered-To")
        )
        if "@" in address
    ]
    cc = [
        address.lower()
        for _name, address in getaddresses(_all(message, "Cc"))
        if "@" in address
    ]
    body_part = None
    try:
        body_part = message.get_body(preferencelist=("plain", "html"))
    except Exception:
        defects.append("NoBody")
    text, html_only = "", False
    if body_part is not None:
        content = _decode(body_part)
        if body_part.get_content_type() == "text/html":
            text, html_only = html_to_text(content), True
        else:
            text = content
    elif not message.is_multipart() and message.get_content_maintype() in (
        "text",
        "multipart",  # a broken multipart (no boundary found): its text is the body
    ):
        body_part = message
        text = _decode(message)
    attachments = []
    for index, part in enumerate(message.walk()):
        if part is body_part or part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        maintype = part.get_content_maintype()
        if disposition is None and maintype in ("text", "message"):
            continue  # an alternative body, not a file
        if part.get_content_type() in ("message/delivery-status",):
            continue
        content = part.get_payload(decode=True) or b""
        attachments.append(
            Attachment(
                name=_filename(part, index),
                content=content,
                content_type=part.get_content_type(),
                inline=disposition == "inline" or bool(part.get("Content-ID")),
            )
        )
    headers = []
    for name, value in message.raw_items():
        try:
            value = message.policy.header_fetch_parse(name, value)
        except Exception:  # noqa: S110 - an undecodable header stays as it came
            value = str(value)
        value = str(value).replace("\x00", "")  # PostgreSQL refuses NUL in text
        headers.append((name.replace("\x00", ""), " ".join(value.split())))
    return ParsedEmail(
        message_id=message_id,
        key=hashlib.sha256(key_source).hexdigest(),
        sender=sender,
        sender_name=str(sender_name or ""),
        subject=_header(message, "Subject"),
        recipients=recipients,
        cc=cc,
        in_reply_to=_header(message, "In-Reply-To"),
        references=_header(message, "References"),
        text=text.replace("\r\n", "\n").replace("\x00", ""),
        html_only=html_only,
        attachments=attachments,
        headers=headers,
        automated=_automated(message, sender),
        authentication_results=_all(message, "Authentication-Results"),
        defects=defects,
    )


def authenticated(parsed: ParsedEmail) -> bool:
    """Whether a receiving server recorded a DKIM or SPF pass."""
    for value in parsed.authentication_results:
        if re.search(r"\b(dkim|spf)\s*=\s*pass\b", value, re.IGNORECASE):
            return True
    return False
