"""The admin's avatars: the user's initials on a colour of their own, drawn as an inline
SVG (a data: URL), so no avatar is fetched from gravatar or anywhere else. An avatar the
user uploaded in Wagtail's account settings still wins."""

import hashlib
from urllib.parse import quote
from xml.sax.saxutils import escape

# White text on each of these has a contrast ratio of at least 4.5:1.
COLOURS = (
    "#1d4f91",
    "#6b3fa0",
    "#2e6b30",
    "#a3361b",
    "#005f73",
    "#8e2453",
    "#5a4a00",
    "#4a4f57",
)


def initials(user):
    """Up to two letters: first and last name, else the email's first letter."""
    names = [
        part.strip()
        for part in (getattr(user, "first_name", ""), getattr(user, "last_name", ""))
    ]
    letters = "".join(name[0] for name in names if name)
    if not letters:
        letters = (getattr(user, "email", "") or "?")[0]
    return letters.upper()


def initials_avatar_url(user, size=50):
    key = str(user.pk or getattr(user, "email", "")).encode()
    colour = COLOURS[hashlib.sha256(key).digest()[0] % len(COLOURS)]
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" '
        'viewBox="0 0 100 100"><rect width="100" height="100" fill="{colour}"/>'
        '<text x="50" y="50" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui,sans-serif" font-size="42">{text}</text></svg>'
    ).format(size=int(size), colour=colour, text=escape(initials(user)))
    return "data:image/svg+xml," + quote(svg, safe="")


def avatar_url(user, size):
    """Wagtail's ``get_avatar_url`` hook: None leaves an uploaded avatar to Wagtail, and
    an absent user (a page revision whose author was deleted) to Wagtail's default."""
    if user is None:
        return None
    profile = getattr(user, "wagtail_userprofile", None)
    if profile is not None and profile.avatar:
        return None
    return initials_avatar_url(user, size)
