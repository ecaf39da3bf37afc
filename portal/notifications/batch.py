"""What the emails of one claim share: one mail connection and their renderings.

* **One connection.** The backend's connection (an SMTP session in production) is
  opened at the claim's first email, used for the others and closed at the end. A
  failed send closes it, so the next email opens a new one, as each did before.
* **Identical emails rendered once.** The emails of one event to several users
  (a new ticket's alert to each agent of the queue) differ only in the greeting's
  name when kind, context and language are the same. They are rendered once with a
  stand-in recipient whose short name is a marker, then the marker is replaced by
  each recipient's name, escaped where the template escaped it. The shared rendering
  is used only when it is provably what rendering for the recipient gives: the
  stand-in was asked for nothing but ``get_short_name``, the marker is not in the
  subject, and every name it gave appears whole in the bodies, raw or HTML-escaped.
  Otherwise each email is rendered for its recipient, as before.
"""

import json
import logging
import uuid
from collections.abc import Callable
from json.encoder import c_make_encoder, encode_basestring_ascii

from django.utils.html import conditional_escape

logger = logging.getLogger(__name__)

#: (subject, text, html)
Rendering = tuple[str, str, str]


class _StandIn:
    """The recipient of a shared rendering. Its short name is the marker; anything
    else a template asks of it (an attribute, its text) spoils the sharing."""

    def __init__(self, marker: str):
        self._marker = marker
        self.names_given = 0
        self.spoiled = False

    def get_short_name(self) -> str:
        self.names_given += 1
        return self._marker

    def __getattr__(self, name):  # only for attributes it does not have
        self.spoiled = True
        raise AttributeError(name)

    def __str__(self):
        self.spoiled = True
        return self._marker


class _Shared:
    """A rendering with a marker where each recipient's short name goes.

    The marker is found as plain substrings, raw or HTML-escaped (no regular
    expression: one compiled per event filled ``re``'s cache with patterns used once).
    Neither form can overlap itself or the other (``Z`` and ``Q`` only at their ends,
    the token is lowercase hex), so counting and replacing each form separately is
    what one left-to-right scan for either would do."""

    def __init__(self, rendering: Rendering, token: str):
        self.rendering = rendering
        self._token = token
        self._raw = _marker(token)
        self._escaped = str(conditional_escape(self._raw))

    def _found(self, text: str) -> int:
        return text.count(self._escaped) + text.count(self._raw)

    def usable(self, stand_in: _StandIn) -> bool:
        subject, text, html = self.rendering
        if stand_in.spoiled or self._token in subject:
            return False
        return self._found(text) + self._found(html) == stand_in.names_given

    def for_name(self, name: str) -> Rendering:
        subject, text, html = self.rendering
        escaped = str(conditional_escape(name))

        def swap(rendered: str) -> str:
            # split on the escaped form first: a replaced name is never searched again
            return escaped.join(
                part.replace(self._raw, name) for part in rendered.split(self._escaped)
            )

        return subject, swap(text), swap(html)


class Batch:
    """Shared by the emails of one claim; ``close`` it at the end. ``connect`` makes
    a mail connection (Django's ``get_connection``)."""

    def __init__(self, connect: Callable[[], object]):
        self._connect = connect
        self._connection = None
        self._renderings: dict[tuple, Rendering | _Shared | None] = {}
        self._kept: dict[tuple, object] = {}

    def connection(self):
        """The open mail connection (opened now if there is none)."""
        if self._connection is None:
            connection = self._connect()
            connection.open()
            self._connection = connection
        return self._connection

    def close(self) -> None:
        """Close the connection (after the claim, or after a failed send: the next
        email opens a new one)."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:
                logger.warning("Closing the mail connection failed", exc_info=True)

    def kept(self, key: tuple, make: Callable[[], object]):
        """``make()``, once per claim for ``key`` (a tuple whose last item is a
        context: plain data, compared by its text)."""
        key = (*key[:-1], _canonical(key[-1]))
        known = self._kept.get(key, ...)
        if known is ...:
            known = self._kept[key] = make()
        return known

    def render(
        self,
        render: Callable[[object], Rendering],
        *,
        kind: str,
        context: dict,
        language: str,
        recipient,
    ) -> Rendering:
        """``render(recipient)`` (the context and language are already bound in
        ``render``), or the same from a rendering shared with the claim's other
        emails of this kind, context and language."""
        key = (kind, language, recipient is not None, _canonical(context))
        known = self._renderings.get(key, ...)
        if known is None:  # not shareable: rendered per recipient
            return render(recipient)
        if recipient is None:  # nobody greeted: the whole rendering is shared
            if known is ...:
                known = self._renderings[key] = render(None)
            return known
        if known is ...:
            token = uuid.uuid4().hex
            stand_in = _StandIn(_marker(token))
            try:
                shared = _Shared(render(stand_in), token)
            except Exception:  # e.g. asked the stand-in for what it has not
                shared = None
            known = shared if shared and shared.usable(stand_in) else None
            self._renderings[key] = known
            if known is None:
                return render(recipient)
        return known.for_name(recipient.get_short_name())


def _marker(token: str) -> str:
    """Mixed case and an ``&``: a filter that changes case or escapes it shows."""
    return f"Zq{token}&{token}Qz"


#: what ``json.dumps(context, sort_keys=True, separators=(",", ":"))`` makes per
#: call, made once (every email of a claim asks for its context's text)
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"))


def _canonical(context: dict) -> str:
    """``_CANONICAL.encode(context)``: for a dict or list, what its one-shot path
    does (the C encoder made with the encoder's settings and new circular-reference
    markers, its chunks joined), without the Python steps around it."""
    if c_make_encoder is None or context.__class__ not in (dict, list):
        return _CANONICAL.encode(context)
    encoder = _CANONICAL
    return "".join(
        c_make_encoder(
            {},
            encoder.default,
            encode_basestring_ascii,
            None,
            encoder.key_separator,
            encoder.item_separator,
            True,
            encoder.skipkeys,
            encoder.allow_nan,
        )(context, 0)
    )
