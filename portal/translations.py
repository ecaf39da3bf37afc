"""Constant messages translated once per language: the process's catalogues do not
change once loaded (as ``{% trans_once %}`` and the desk's kept labels assume), and a
lookup of a message missing from the first catalogues tries each of the apps'
catalogues in turn (~65 Python calls a message for English, which has few)."""

from django.utils.translation import get_language, gettext

# {(msgids, language): {msgid: translation}}
_TRANSLATED: dict = {}


def translated(msgids: tuple[str, ...]) -> dict[str, str]:
    """``{msgid: gettext(msgid)}`` of ``msgids`` in the active language."""
    key = (msgids, get_language())
    found = _TRANSLATED.get(key)
    if found is None:
        found = _TRANSLATED[key] = {msgid: gettext(msgid) for msgid in msgids}
    return found
