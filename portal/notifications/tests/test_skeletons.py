"""Emails rendered from their shape's skeleton are exactly the emails rendered from the
templates (the oracle), and a template that looks into a text keeps it in the shape."""

import random
import re
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

from portal.notifications import sending, skeletons

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
KINDS = sorted(
    {p.name.split(".")[0].removesuffix("_subject") for p in EMAILS.iterdir()} - {"base"}
)
TEXTS = [
    "Alice",
    "Łukasz Żółć",
    "Ольга Смирнова",
    "O'Brien & <Co>",
    "Printer <on fire> & smoking",
    "HD-000042",
    "http://testserver/admin/tickets/42/?a=1&b=2",
    "{0} {} {{x}} %(name)s %s %%",
    "  spaced\n\tout  \n",
    "Zq&Qz",
    "&amp; &lt;b&gt;",
    "x" * 300,
    "Wsparcie «techniczne» & <Co>",
    "It's <b>burning</b>.\nPlease help & hurry.",
    "\"quoted\" 'single'",
    "ąęł" * 40,
    "0",
    " ",
    "\u00a0",
]
NAMES = ["Ann", "O'Brien <b>", "Zoë & Ana", 'Иван "Ваня"', "", "{name}", "a&amp;b"]


class _User:
    def __init__(self, name):
        self.name = name

    def get_short_name(self):
        return self.name


def _names(kind):
    found = set()
    for name in skeletons.template_names(kind):
        source = (EMAILS.parent / name).read_text()
        found |= set(re.findall(r"{{\s*(\w+)", source))
        found |= set(re.findall(r"{%\s*if\s+(?:not\s+)?(\w+)", source))
        found |= set(re.findall(r"=(\w+)", source))
        found |= set(re.findall(r"for \w+ in (\w+)", source))
    loop = {"forloop", "name", "priority", "article", "row", "value", "header"}
    return sorted(found - loop - {"recipient", "site_name", "base_url", "nobody"})


def _value(rng, name):
    if name == "suggestions":
        return [
            {"title": rng.choice(TEXTS), "url": rng.choice(TEXTS)}
            for _ in range(rng.randint(0, 2))
        ]
    if name == "headers":
        return [rng.choice(TEXTS) for _ in range(3)]
    if name == "rows":
        return [[rng.choice([*TEXTS, "", None, 3])] * 3 for _ in range(2)]
    if name == "days":
        return rng.choice([1, 2, 5, 21])
    if name == "priority_label":
        return rng.choice(["High", "Low", "Urgent", "Wysoki"])
    return rng.choice([*TEXTS, *TEXTS, "", None, True, False])


def _plain(kind, context, language, recipient):
    with translation.override(language):
        return sending.render_email(kind, {"recipient": recipient, **context})


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_from_its_skeleton_is_what_its_templates_render(kind):
    rng = random.Random(f"skeletons-{kind}")
    names = _names(kind)
    filled = 0
    for _ in range(40):
        context = {n: _value(rng, n) for n in names if rng.random() > 0.1}
        if "days" in names:
            context["days"] = _value(rng, "days")
        language = rng.choice(["en", "pl", "ru"])
        recipient = None if rng.random() < 0.2 else _User(rng.choice(NAMES))
        plain = _plain(kind, context, language, recipient)
        got = sending._rendered(kind, context, language, recipient)
        if got is None:
            continue
        filled += 1
        assert got == plain
        assert [type(part) for part in got] == [type(part) for part in plain]
    if kind == "ticket_sla_breached":  # {% translate … as … %}: not followed
        assert skeletons.looked_into(kind) is None and filled == 0
    elif kind == "ticket_auto_closed":
        # {% blocktranslate count %} reads each placeholder once per plural form
        # and writes it once: the reads do not add up, rendered per email (filled
        # in only where the context has no reference)
        assert skeletons.looked_into(kind) is not None and filled < 40
        context = {"reference": "HD-1", "days": 2}
        assert sending._rendered(kind, context, "en", None) is None
    else:
        assert filled == 40


TICKET = {
    "reference": "HD-000042",
    "subject": "Printer <on fire> & smoking",
    "queue_name": "Support & Co",
    "priority_label": "High",
    "requester_name": "Seán O'Brien",
    "assignee_name": "",
    "ticket_url": "http://testserver/admin/tickets/42/",
    "reply_to": "support@example.com",
    "body": "It's <b>burning</b>.\nPlease help & hurry.",
}


def test_the_next_filings_are_filled_in_without_rendering():
    render = mock.patch(
        "portal.notifications.sending.render_to_string", wraps=sending.render_to_string
    )
    with render as rendered:
        for n, name in enumerate(["Ann", "Łukasz", "Иван <b>", "Zoë & Co"]):
            context = {
                **TICKET,
                "reference": f"HD-{n:06d}",
                "subject": f"{name}'s printer & {n}",
                "body": f"Body {n} <i>{name}</i>\n{TEXTS[n]}",
            }
            for language in ["en", "pl", "ru"]:
                got = sending._rendered(
                    "ticket_created_agent", context, language, _User(name)
                )
                expected = _plain(
                    "ticket_created_agent", context, language, _User(name)
                )
                assert got == expected
    # the plain renders above (12 × 3) and one skeleton per language (3 × 3)
    assert rendered.call_count == 12 * 3 + 3 * 3


def test_a_text_the_templates_look_into_stays_in_the_shape():
    pinned = skeletons.looked_into("ticket_created_agent")
    assert "priority_label" in pinned  # |lower
    assert "subject" not in pinned and "body" not in pinned
    assert {"by_email", "suggestions"} <= skeletons.looked_into("ticket_created")
    for label in ["High", "Low", "High"]:
        context = {**TICKET, "priority_label": label}
        got = sending._rendered("ticket_created_agent", context, "en", _User("A"))
        assert got == _plain("ticket_created_agent", context, "en", _User("A"))
        assert f"new <strong>{label.lower()}</strong> priority" in got[2]
    assert len(skeletons._skeletons) == 2


def _templates(sources, *, cached=True):
    loader = ("django.template.loaders.locmem.Loader", sources)
    loaders = (
        [("django.template.loaders.cached.Loader", [loader])] if cached else [loader]
    )
    return override_settings(
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "OPTIONS": {"loaders": loaders},
            }
        ]
    )


def _kind(text, html="{{ subject }}", subject="[{{ reference }}]"):
    return {
        "emails/k_subject.txt": subject,
        "emails/k.txt": text,
        "emails/k.html": html,
    }


@pytest.mark.parametrize(
    ("text", "pinned"),
    [
        ("{{ subject|capfirst }}", "subject"),
        ("{{ subject|striptags }}", "subject"),
        ("{% if subject %}{{ subject }}{% endif %}", "subject"),
        ("{% for c in subject %}{{ c }}.{% endfor %}", "subject"),
        ("{{ subject.upper }}", "subject"),
        ("{{ reference|default:subject }}", "subject"),
        ("{% if reference == subject %}same{% endif %}", "subject"),
        ("{% if not subject %}none{% endif %}{{ subject }}", "subject"),
    ],
)
def test_a_key_looked_into_is_pinned_and_still_rendered_right(text, pinned):
    with _templates(_kind(text)):
        assert pinned in skeletons.looked_into("k")
        for subject in ["alice <b>", "Bob", "", "<p>x</p>", "HD-1"]:
            context = {"reference": "HD-1", "subject": subject}
            got = sending._rendered("k", context, "en", None)
            assert got == _plain("k", context, "en", None)


@pytest.mark.parametrize(
    "text",
    [
        '{% now "Y-m-d H:i:s.u" %}',
        '{% include "emails/k.html" %}',
        '{% load i18n %}{% translate "Hello" as hello %}{{ hello }}',
        "{% load i18n %}{% blocktranslate asvar x %}Hi{% endblocktranslate %}{{ x }}",
        "{% with s=subject %}{{ s }}{% endwith %}",
        "{% cycle 'a' 'b' %}",
    ],
)
def test_a_tag_not_followed_renders_every_email(text):
    with _templates(_kind(text)):
        assert skeletons.looked_into("k") is None
        assert (
            sending._rendered("k", {"subject": "s", "reference": "r"}, "en", None)
            is None
        )


def test_another_loader_than_the_cached_one_renders_every_email():
    with _templates(_kind("{{ subject }}"), cached=False):
        assert skeletons.looked_into("k") is None


def test_a_marker_read_once_and_written_twice_is_not_filled_in():
    text = "{% load i18n %}{% blocktranslate with s=subject %}{{ s }} and {{ s }}{% endblocktranslate %}"
    with _templates(_kind(text)):
        context = {"subject": "A & B", "reference": "r"}
        assert sending._rendered("k", context, "en", None) is None
        assert list(skeletons._skeletons.values()) == [skeletons._UNUSABLE]
        with translation.override("en"):
            assert sending.render_email("k", context)[1] == "A &amp; B and A &amp; B"


@pytest.mark.parametrize(
    "change",
    [
        lambda text: text.replace("Zq", "zq"),  # a changed marker
        lambda text: re.sub(
            r"Zq[0-9a-f]{32}000&000[0-9a-f]{32}Qz", "", text
        ),  # dropped
        lambda text: text.replace("&000", "&amp;amp;000"),  # escaped twice
        lambda text: text + text,  # written twice
    ],
)
def test_a_rendering_whose_markers_do_not_add_up_is_not_used(change):
    def render_raw(kind, context):
        context["subject"]  # noqa: B018 (one read of the marked key)
        return "s", change(f"T {dict.__getitem__(context, 'subject')}"), "h"

    built = skeletons._build(
        "k", "en", {"subject": "x"}, ["subject"], False, render_raw
    )
    assert built is skeletons._UNUSABLE


def test_a_stand_in_asked_for_more_than_its_name_is_not_used():
    def render_raw(kind, context):
        recipient = dict.__getitem__(context, "recipient")
        return "s", f"Hi {recipient.get_short_name()} {recipient.email}", "h"

    def text_of(kind, context):
        return "s", f"Hi {dict.__getitem__(context, 'recipient')}", "h"

    for render_raw_ in (render_raw, text_of):
        built = skeletons._build("k", "en", {"recipient": None}, [], True, render_raw_)
        assert built is skeletons._UNUSABLE


def test_skeletons_are_forgotten_when_a_setting_changes():
    with _templates(_kind("one {{ subject }}")):
        got = sending._rendered("k", {"subject": "s", "reference": "r"}, "en", None)
        assert got[1] == "one s"
    assert not skeletons._skeletons and not skeletons._pinned
    with _templates(_kind("two {{ subject }}")):
        got = sending._rendered("k", {"subject": "s", "reference": "r"}, "en", None)
        assert got[1] == "two s"
    with override_settings(WAGTAIL_SITE_NAME="Other & <Site>"):
        context = {**TICKET}
        got = sending._rendered("ticket_created_agent", context, "en", _User("A"))
        assert "Other &amp; &lt;Site&gt;" in got[2]
        assert got == _plain("ticket_created_agent", context, "en", _User("A"))


def test_a_context_naming_its_own_recipient_is_rendered_as_before():
    context = {**TICKET, "recipient": None}
    assert sending._rendered("ticket_created_agent", context, "en", _User("A")) is None


def test_at_most_the_limit_of_shapes_is_kept(monkeypatch):
    monkeypatch.setattr(skeletons, "_LIMIT", 3)
    for label in ["a", "b", "c", "d"]:
        context = {**TICKET, "priority_label": label}
        got = sending._rendered("ticket_created_agent", context, "en", None)
        assert got == _plain("ticket_created_agent", context, "en", None)
    assert len(skeletons._skeletons) == 1


@pytest.mark.django_db
def test_a_second_event_is_sent_from_the_skeletons_exactly_as_rendered(make_user):
    from django.core import mail

    from portal.notifications.models import SentNotification

    from .test_batched_delivery import NAMES as USERS
    from .test_batched_delivery import _one_by_one, _outgoing

    users = [
        make_user(f"user{n}@example.com", display_name=name, locale=language)
        for n, (name, language) in enumerate(USERS)
    ]
    render = mock.patch(
        "portal.notifications.sending.render_to_string", wraps=sending.render_to_string
    )
    for event, renders in [("evt-1", 3 * 7), ("evt-2", 0)]:
        mail.outbox.clear()
        _outcomes, keys = sending.store(_outgoing(users, event=event))
        with render as rendered:
            assert sending.deliver(keys) == {key: "sent" for key in keys}
        assert rendered.call_count == renders
        rows = {r.idempotency_key: r for r in SentNotification.objects.all()}
        ordered = sorted(keys, key=lambda k: rows[k].pk)
        for message, key in zip(mail.outbox, ordered, strict=True):
            to, subject, text, html = _one_by_one(rows[key])
            assert (message.to, message.subject) == ([to], subject)
            assert message.body == text
            assert message.alternatives == [(html, "text/html")]
