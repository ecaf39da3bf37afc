"""``{% history_item %}`` and ``{% conversation_item %}`` (``tickets.templatetags.desk_tags``) renders the History row
the workspace template rendered before, character for character: every kind of
change (old and new value, one of them, none), an actor or none ("System"), names and
values that need escaping, in each language and time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.functional import empty
from django.utils.safestring import mark_safe

from accounts.models import User
from tickets.desk import forms
from tickets.models import Attachment, Comment, EventKind, Status, Ticket, TicketEvent

TEMPLATE_ROW = (
    '{% load i18n time_tags %}<li data-event-kind="{{ event.kind }}">'
    '{% time_element event.created_at "DATETIME_FORMAT" %} · '
    '{{ event.actor|default:_("System") }} · {{ event.get_kind_display }}'
    "{% if event.old_value and event.new_value %}: {{ event.old_label }} → "
    "{{ event.new_label }}{% elif event.new_value %}: {{ event.new_label }}"
    "{% elif event.old_value %}: {{ event.old_label }}{% endif %}</li>"
)
TAG_ROW = "{% load desk_tags %}{% history_item event %}"


def events():
    when = datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    people = [
        None,
        User(email="a@example.com", display_name="Ann <b>\"&'"),
        User(email="plain@example.com"),
    ]
    changes = [
        (EventKind.STATUS_CHANGED, "new", "open"),
        (EventKind.CREATED, "", "new"),
        (EventKind.PRIORITY_CHANGED, "low", ""),
        (EventKind.TAGS_CHANGED, "<x>", "a & b"),
        (EventKind.COMMENTED, "", ""),
        ("unknown_kind", "", "<raw>"),
    ]
    for actor in people:
        for kind, old, new in changes:
            yield TicketEvent(
                kind=kind, old_value=old, new_value=new, actor=actor, created_at=when
            )


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_history_item_is_the_template_row(language, zone, autoescape):
    ours, theirs = Template(TAG_ROW), Template(TEMPLATE_ROW)
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        for event in events():
            context = {"event": event}
            expected = theirs.render(Context(context, autoescape=autoescape))
            assert ours.render(Context(context, autoescape=autoescape)) == expected


def test_system_is_translated():
    event = TicketEvent(kind=EventKind.AUTO_CLOSED, created_at=datetime.now(UTC))
    with translation.override("pl"):
        polish = Template(TAG_ROW).render(Context({"event": event}))
    with translation.override("en"):
        english = Template(TAG_ROW).render(Context({"event": event}))
    assert " · System · " in english
    with translation.override("pl"):
        assert polish == Template(TEMPLATE_ROW).render(Context({"event": event}))


# The workspace's conversation loop body before ``{% conversation_item %}``.
TEMPLATE_MESSAGE = """{% load i18n time_tags %}<li class="desk-message {% if comment.is_internal %}desk-message--note{% else %}desk-message--reply{% endif %}" id="comment-{{ comment.pk }}">
            <header>
              {% if comment.is_internal %}<span class="desk-badge desk-badge--note">{% trans "Internal note" %}</span>{% else %}<span class="desk-badge desk-badge--reply">{% trans "Public reply" %}</span>{% endif %}
              <strong>{{ comment.author }}</strong> · {% time_element comment.created_at "DATETIME_FORMAT" %}
            </header>
            <div class="desk-message__body">{{ comment.body|linebreaks }}</div>
            {% with files=comment.files %}{% if files %}<ul class="desk-files">{% for f in files %}<li><a href="{{ f.get_absolute_url }}">{{ f.original_name }}</a> ({{ f.size|filesizeformat }})</li>{% endfor %}</ul>{% endif %}{% endwith %}
          </li>"""  # noqa: E501
TAG_MESSAGE = "{% load desk_tags %}{% conversation_item comment %}"


def comments():
    when = datetime(2026, 10, 25, 0, 59, tzinfo=UTC)
    files = [
        [],
        [Attachment(pk=7, original_name="a<b>&\"c'.png", size=1)],
        [
            Attachment(pk=8, original_name="report.pdf", size=123456),
            Attachment(pk=9, original_name="big.zip", size=5 * 1024**3),
        ],
    ]
    authors = [
        User(email="x@example.com", display_name="<Zoë & Co>"),
        User(email="y@e.com"),
    ]
    bodies = ["Hello", "Line 1\nLine 2\n\n<script>&amp;</script>\r\n\r\nend", ""]
    pk = 12345
    for internal in (False, True):
        for author in authors:
            for body in bodies:
                for shared in files:
                    pk += 1
                    comment = Comment(
                        pk=pk,
                        is_internal=internal,
                        author=author,
                        body=body,
                        created_at=when,
                    )
                    comment.files = shared
                    yield comment
    yield Comment(pk=1, author=authors[1], body="no files attribute", created_at=when)


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_conversation_item_is_the_template_message(language, autoescape):
    ours, theirs = Template(TAG_MESSAGE), Template(TEMPLATE_MESSAGE)
    with translation.override(language), timezone.override(ZoneInfo("Europe/Warsaw")):
        for comment in comments():
            context = {"comment": comment}
            expected = theirs.render(Context(context, autoescape=autoescape))
            assert ours.render(Context(context, autoescape=autoescape)) == expected


OTHER_TICKETS_LIST = (
    '{% load i18n %}<ul>{% for t in ts %}<li><a href="{{ t.get_admin_url }}">'
    "{{ t.reference }}</a> {{ t.subject }} · {{ t.get_status_display }}</li>"
    '{% empty %}<li>{% trans "None." %}</li>{% endfor %}</ul>'
)


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_other_tickets_is_the_template_list(language, autoescape):
    ours = Template("{% load desk_tags %}{% other_tickets ts %}")
    theirs = Template(OTHER_TICKETS_LIST)
    subjects = [
        "Plain",
        "<b>Bold</b> & \"quoted\" 'single'",
        "100% {{ x }}",
        "",
        mark_safe("<i>kept</i> &amp;"),  # not a plain str: conditional_escape's way
    ]
    every = [
        Ticket(reference=f"HD-0<{n}>&", subject=subject, status=status)
        for n, (status, subject) in enumerate(
            (status, subject)
            for status in [*Status.values, "unknown", ""]
            for subject in subjects
        )
    ]
    lists = [[], None, every[:1], every[3:6], every, tuple(every[:2])]
    with translation.override(language):
        for ts in lists:
            context = {"ts": ts}
            expected = theirs.render(Context(context, autoescape=autoescape))
            assert ours.render(Context(context, autoescape=autoescape)) == expected
        # no list at all in the context: the loop's empty branch
        assert ours.render(Context({})) == theirs.render(Context({}))
    with translation.override("pl"):
        html = ours.render(Context({"ts": [Ticket(reference="HD-1", status="open")]}))
        nothing = ours.render(Context({"ts": []}))
    assert html == (
        '<ul><li><a href="/admin/helpdesk/tickets/HD-1/">HD-1</a>  · Otwarte</li></ul>'
    )
    assert nothing == "<ul><li>Brak.</li></ul>"


FORMER_ERRORS_BOX = (
    '{% include "includes/form_errors.html" with form=f field_errors=True '
    'class="error-message" %}'
)


def workspace_forms():
    """Forms without errors (unbound, bound and valid) and with errors (a field's,
    escaped; the form's own)."""
    time_form = forms.TimeForm({"minutes": "0", "note": "<b>x</b>"})
    merge = forms.MergeForm({"target": "HD-1"})
    merge.is_valid()
    merge.add_error(None, "Refused <because> & so")
    return [
        forms.TimeForm(),
        forms.TimeForm({"minutes": "5"}),
        time_form,
        forms.StatusForm({"status": "nonsense", "reason": "x" * 5000}),
        merge,
        forms.TimeForm(),
    ]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_form_errors_box_is_the_former_include(language):
    ours = Template("{% load desk_tags %}{% form_errors_box f %}")
    theirs = Template(FORMER_ERRORS_BOX)
    with translation.override(language):
        seen = []
        for form in workspace_forms():  # one node: without, with, without again
            expected = theirs.render(Context({"f": form}))
            assert ours.render(Context({"f": form})) == expected
            seen.append(expected)
    assert seen[0] == seen[1] == seen[-1] == "\n"
    assert 'role="alert"' in seen[2] and "&lt;because&gt; &amp; so" in seen[4]


ACTIONS = ["comment", "status", "priority", "assign", "queue", "tags", "watch"]
ACTIONS += ["time", "merge", "a-b_9"]


@pytest.mark.parametrize("autoescape", [True, False])
def test_ticket_action_url_is_the_url_tag(autoescape, settings):
    from django.urls import NoReverseMatch

    ours = Template(
        "{% load desk_tags %}{% for a in actions %}"
        "{% ticket_action_url reference a %}|{% endfor %}"
    )
    django = Template(
        "{% for a in actions %}"
        "{% url 'helpdesk:ticket_action' reference a %}|{% endfor %}"
    )
    for reference in ("HD-000005", "HD-1", "a b&c'd\"<e>", "ü%20x", "x:y@z"):
        context = {"actions": ACTIONS, "reference": reference}
        expected = django.render(Context(context, autoescape=autoescape))
        assert ours.render(Context(context, autoescape=autoescape)) == expected
        assert expected.count("|") == len(ACTIONS)
    for refused in ("a/b", ""):  # not a reference the pattern takes
        with pytest.raises(NoReverseMatch):
            ours.render(Context({"actions": ACTIONS, "reference": refused}))
    mixed = {"actions": ["comment", "not a slug", "merge"], "reference": "HD-1"}
    with pytest.raises(NoReverseMatch):
        ours.render(Context(mixed))  # as reversing it would


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_form_errors_box_of_a_form_not_built_is_the_built_forms(language):
    """The workspace's unbound forms are ``forms.Unbuilt``: the box is what the
    former include renders for the built form, and it does not build the form."""
    ours = Template("{% load desk_tags %}{% form_errors_box f %}")
    theirs = Template(FORMER_ERRORS_BOX)
    with translation.override(language):
        for build in (forms.TimeForm, forms.MergeForm, forms.WatcherForm):
            expected = theirs.render(Context({"f": build()}))
            built = []
            for _ in range(3):  # the include rendered, then kept on the node
                unbuilt = forms.Unbuilt(build)
                assert ours.render(Context({"f": unbuilt})) == expected == "\n"
                built.append(unbuilt._wrapped is not empty)
            assert built == [build is forms.TimeForm, False, False]  # the first only
    # denied twin: a bound form with errors is still shown with them
    bound = forms.TimeForm({"minutes": "0"})
    assert 'role="alert"' in ours.render(Context({"f": bound}))
