"""``sentence_case``: "Remember Me" → "Remember me", "Sign Up" → "Sign up", a label's
trailing colon dropped. Used by our allauth element templates, so that allauth's
labels, headings and buttons read like the rest of the site."""

import re

from django import template
from django.utils.safestring import SafeData, mark_safe

register = template.Library()

# Capitalised words that stay so (names, and the pronoun).
KEEP = frozenset({"I", "Google", "GitHub", "Microsoft", "Apple", "Lumen", "Gravatar"})
_WORD = re.compile(r"(?<=\s)([A-Z][a-z]+)\b")


@register.filter(is_safe=True)
def sentence_case(value):
    text = " ".join(str(value).split())  # slots come with their template's indent
    changed = _WORD.sub(
        lambda m: m.group(1) if m.group(1) in KEEP else m.group(1).lower(), text
    )
    changed = re.sub(r":(\s*)$", r"\1", changed)
    return mark_safe(changed) if isinstance(value, SafeData) else changed
