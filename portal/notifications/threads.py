"""Email threading for ticket notifications: the one place that makes and recognises
our Message-IDs.

Every email about a ticket gets a Message-ID ``<hd.HD-000123.<nonce>.<sig>@domain>``
whose signature (an HMAC of the reference and nonce under ``SECRET_KEY``) lets the
email intake recognise a reply to it and know its ticket without a lookup table, and
lets nobody forge one for another ticket. All emails of a ticket name the same thread
root (``<hd.HD-000123.thread.<sig>@domain>``) in ``In-Reply-To``/``References``, so
mail clients group them; the subject carries ``[HD-000123]``.
"""

import functools
import hmac
import os
import re

from . import kept_settings

_OURS = re.compile(r"<?hd\.([A-Za-z]+-\d+)\.([A-Za-z0-9]+)\.([0-9a-f]{20})@[^>\s]+>?")


def domain(known=None) -> str:
    """The domain of our Message-IDs (``known``: the kept settings, when read)."""
    known = known or kept_settings.kept()
    return known.message_id_domain or _domain_of(str(known.default_from_email or ""))


@functools.lru_cache(maxsize=64)
def _domain_of(sender: str) -> str:
    found = re.search(r"@([A-Za-z0-9.-]+)", sender)
    return found.group(1) if found else "helpdesk.invalid"


@functools.lru_cache(maxsize=8)
def _key(secret: str) -> bytes:
    return f"email-thread:{secret}".encode()


def _sign(reference: str, nonce: str, secret: str | None = None) -> str:
    # hmac.digest: the same HMAC-SHA256 as hmac.new(...).digest(), in one call
    message = f"{reference}.{nonce}".encode()
    if secret is None:
        secret = kept_settings.kept().secret_key
    return hmac.digest(_key(secret), message, "sha256").hex()[:20]


def message_id(
    reference: str, nonce: str | None = None, *, at: str = "", secret=None
) -> str:
    """A Message-ID of ours for ``reference`` (``at``: the domain, and ``secret``:
    ``SECRET_KEY``, when already known)."""
    nonce = nonce or os.urandom(16).hex()  # 32 hex digits, as token_hex(16) gives
    signature = _sign(reference, nonce, secret)
    return f"<hd.{reference}.{nonce}.{signature}@{at or domain()}>"


@functools.lru_cache(maxsize=1024)
def _root(reference: str, secret: str, at: str) -> str:
    return message_id(reference, "thread", at=at, secret=secret)


def thread_root(reference: str, *, at: str = "") -> str:
    """The thread root of ``reference``: the same for every email of a ticket, so
    made once per reference, key and domain."""
    return _root(reference, kept_settings.kept().secret_key, at or domain())


def reference_of(value: str) -> str | None:
    """The ticket reference of one of our Message-IDs, or None (a forged or foreign
    id is not ours)."""
    for found in _OURS.finditer(str(value or "")):
        reference, nonce, signature = found.groups()
        if hmac.compare_digest(signature, _sign(reference, nonce)):
            return reference
    return None


def references_in(header: str) -> list[str]:
    """Ticket references of every id of ours in an In-Reply-To/References value."""
    found = []
    for candidate in re.findall(r"<[^<>]+>", str(header or "")):
        reference = reference_of(candidate)
        if reference and reference not in found:
            found.append(reference)
    return found


def is_ours(value: str) -> bool:
    return reference_of(value) is not None


def tagged_subject(subject: str, reference: str) -> str:
    tag = f"[{reference}]"
    return subject if tag in subject else f"{tag} {subject}"[:255]


def headers(reference: str, *, reply_to: str = "", extra_references=()) -> dict:
    """Headers for one email about ticket ``reference``."""
    known = kept_settings.kept()
    at, secret = domain(known), known.secret_key
    root = _root(reference, secret, at)  # ``thread_root``
    chain = [root]
    if extra_references:
        chain += [r for r in extra_references if r and r != root]
    result = {
        "Message-ID": message_id(reference, at=at, secret=secret),
        "In-Reply-To": chain[-1],
        "References": " ".join(chain),
    }
    if reply_to:
        result["Reply-To"] = reply_to
    return result
