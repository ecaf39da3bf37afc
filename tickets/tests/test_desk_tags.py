"""``{% history_rows %}``, ``{% conversation_rows %}`` and ``{% clock_rows %}``
(``tickets.templatetags.desk_tags``) render the History's, the Conversation's and the SLA
clocks' ``{% for %}`` loops the workspace template rendered before, character for
character: every kind of change (old and new value, one of them, none), an actor or
none ("System"), names and values that need escaping, times aware (across DST
changes), naive or missing, every clock state, in each language and time zone,
escaping on and off.

Over 400 lines on purpose: one oracle per row kind, each with its former template."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.functional import empty
from django.utils.safestring import mark_safe

from accounts.models import User
from portal import translations
from tickets.desk import forms, workspace
from tickets.models import Attachment, Comment, EventKind, Status, Ticket, TicketEvent
from tickets.templatetags import desk_tags

TEMPLATE_ROW = (
    '{% load i18n time_tags %}<li data-event-kind="{{ event.kind }}">'
    '{% time_element event.created_at "DATETIME_FORMAT" %} · '
    '{{ event.actor|default:_("System") }} · {{ event.get_kind_display }}'
    "{% if event.old_value and event.new_value %}: {{ event.old_label }} → "
    "{{ event.new_label }}{% elif event.new_value %}: {{ event.new_label }}"
    "{% elif event.old_value %}: {{ event.old_label }}{% endif %}</li>"
)
TAG_ROW = "{% load desk_tags %}{% history_rows events %}"
# the former loop, with the workspace's line breaks and indentation
TEMPLATE_ROWS = (
    "{% for event in events %}\n          "
    + TEMPLATE_ROW.removeprefix("{% load i18n time_tags %}")
    + "\n        {% endfor %}"
)
TEMPLATE_ROWS = "{% load i18n time_tags %}" + TEMPLATE_ROWS
# times of the rows: both sides of Warsaw's DST change, other months, naive, none
WHENS = [
    datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
    datetime(2026, 5, 1, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
    datetime(2026, 7, 1, 23, 59),
    None,
]


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


def timed_events():
    """Every event of ``events``, one list, each at one of ``WHENS`` in turn."""
    listed = list(events())
    for n, event in enumerate(listed):
        event.created_at = WHENS[n % len(WHENS)]
    return listed


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw", "America/New_York"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_history_rows_are_the_template_loop(language, zone, autoescape):
    ours, theirs = Template(TAG_ROW), Template(TEMPLATE_ROWS)
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        for listed in (timed_events(), list(events())[:1], [], None):
            context = {"events": listed}
            expected = theirs.render(Context(context, autoescape=autoescape))
            assert ours.render(Context(context, autoescape=autoescape)) == expected
        assert "→" in expected or listed is None


@pytest.mark.parametrize("use_tz", [True, False])
def test_rows_follow_localtime_off_and_use_tz(settings, use_tz):
    """``{% localtime off %}`` and ``USE_TZ = False`` keep the stored time, as the
    ``date`` filter did."""
    settings.USE_TZ = use_tz
    inner = "{% history_rows events %}|{% conversation_rows comments %}"
    former = TEMPLATE_ROWS + "|" + TEMPLATE_MESSAGES.removeprefix(LOADED)
    listed, messages = timed_events(), list(comments())[:3]
    context = {"events": listed, "comments": messages}
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        for wrap in ("{}", "{{% localtime off %}}{}{{% endlocaltime %}}"):
            ours = Template("{% load desk_tags tz %}" + wrap.format(inner))
            theirs = Template(
                LOADED + "{% load tz %}" + wrap.format(former.removeprefix(LOADED))
            )
            assert ours.render(Context(context)) == theirs.render(Context(context))


def test_system_is_translated():
    listed = [TicketEvent(kind=EventKind.AUTO_CLOSED, created_at=datetime.now(UTC))]
    with translation.override("pl"):
        polish = Template(TAG_ROW).render(Context({"events": listed}))
    with translation.override("en"):
        english = Template(TAG_ROW).render(Context({"events": listed}))
    assert " · System · " in english
    with translation.override("pl"):
        assert polish == Template(TEMPLATE_ROWS).render(Context({"events": listed}))


# The workspace's conversation loop body before ``{% conversation_item %}``.
TEMPLATE_MESSAGE = """{% load i18n time_tags %}<li class="desk-message {% if comment.is_internal %}desk-message--note{% else %}desk-message--reply{% endif %}" id="comment-{{ comment.pk }}">
            <header>
              {% if comment.is_internal %}<span class="desk-badge desk-badge--note">{% trans "Internal note" %}</span>{% else %}<span class="desk-badge desk-badge--reply">{% trans "Public reply" %}</span>{% endif %}
              <strong>{{ comment.author }}</strong> · {% time_element comment.created_at "DATETIME_FORMAT" %}
            </header>
            <div class="desk-message__body">{{ comment.body|linebreaks }}</div>
            {% with files=comment.files %}{% if files %}<ul class="desk-files">{% for f in files %}<li><a href="{{ f.get_absolute_url }}">{{ f.original_name }}</a> ({{ f.size|filesizeformat }})</li>{% endfor %}</ul>{% endif %}{% endwith %}
          </li>"""  # noqa: E501
TAG_MESSAGE = "{% load desk_tags %}{% conversation_rows comments %}"
LOADED = "{% load i18n time_tags %}"
TEMPLATE_MESSAGES = (
    LOADED
    + "{% for comment in comments %}\n          "
    + TEMPLATE_MESSAGE.removeprefix(LOADED)
    + "\n        {% endfor %}"
)


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
def test_conversation_rows_are_the_template_loop(language, autoescape):
    ours, theirs = Template(TAG_MESSAGE), Template(TEMPLATE_MESSAGES)
    listed = list(comments())
    for n, comment in enumerate(listed):
        comment.created_at = WHENS[n % len(WHENS)]
    with translation.override(language), timezone.override(ZoneInfo("Europe/Warsaw")):
        for rows in (listed, listed[:1], [], None):
            context = {"comments": rows}
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


# The compose form's lines of ``tickets/desk/ticket.html`` as they were (17da60f),
# reading the built comment form.
FORMER_COMPOSE = "\n".join(
    [
        "{% load i18n %}",
        '<textarea name="body" id="id_body" rows="8" cols="60">'
        "{{ comment_form.body.value|default:'' }}</textarea>",
        '<label class="desk-note-toggle"><input type="checkbox" name="internal" '
        'value="on" {% if comment_form.internal.value %}checked{% endif %} '
        "{% if not can.reply %}checked disabled{% endif %}> "
        '{% trans "Internal note (staff only, never shown to the customer)" %}'
        "</label>",
        "{% for value, label in comment_form.fields.submit_as.choices %}"
        '<option value="{{ value }}"{% if comment_form.submit_as.value == value %}'
        " selected{% endif %}>{{ label }}</option>{% endfor %}",
    ]
)


def _compose_lines():
    """The same lines of today's template, which read the form through
    ``shown_value`` and ``field_choices``."""
    from django.conf import settings

    path = settings.BASE_DIR / "templates" / "tickets" / "desk" / "ticket.html"
    lines = [
        line.strip()
        for line in path.read_text().splitlines()
        if "comment_form|" in line
    ]
    assert len(lines) == 3
    return "\n".join(["{% load i18n desk_tags %}", *lines])


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_compose_form_not_built_is_the_built_forms_markup(language):
    """The workspace's comment form is a ``forms.Unbuilt``: its compose lines are
    the former template's for the built form, and rendering them does not build it;
    a bound form (a failed reply shown again: its text, note box and "submit as"
    kept, an unknown "submit as" too) renders as before."""
    from tickets.desk import workspace

    ours, theirs = Template(_compose_lines()), Template(FORMER_COMPOSE)
    ticket = Ticket(queue_id=1, status=Status.NEW)
    bound = [
        {"body": '<b>Hi</b> & "bye"', "internal": "on", "submit_as": "open"},
        {"body": "x", "submit_as": "waiting_on_customer"},
        {"body": "", "submit_as": "bogus"},
        {},
    ]
    with translation.override(language):
        for reply in (True, False):
            can = {"reply": reply}
            unbuilt = workspace.build_forms(ticket, None)["comment_form"]
            built = forms.CommentForm(ticket=ticket)
            assert unbuilt.shown == {
                name: built[name].value() for name in unbuilt.shown
            }
            expected = theirs.render(Context({"comment_form": built, "can": can}))
            got = ours.render(Context({"comment_form": unbuilt, "can": can}))
            assert got == expected
            assert unbuilt._wrapped is empty  # not built
            assert "<option" in got and " selected" not in got
            for data in bound:
                form = forms.CommentForm(data, ticket=ticket)
                context = {"comment_form": form, "can": can}
                assert ours.render(Context(context)) == theirs.render(
                    Context(context)
                ), data
        shown = ours.render(
            Context(
                {
                    "comment_form": forms.CommentForm(bound[0], ticket=ticket),
                    "can": {"reply": True},
                }
            )
        )
        assert "&lt;b&gt;Hi&lt;/b&gt; &amp; &quot;bye&quot;" in shown
        assert 'value="open" selected' in shown and "checked" in shown


# The workspace's SLA loop before ``{% clock_rows %}``.
TEMPLATE_CLOCKS = """{% load i18n %}{% for clock in clocks %}
          <li class="desk-clock desk-clock--{{ clock.state }}"><strong>{{ clock.label }}</strong>:
            {% if clock.state == "none" %}{% trans "no target" %}
            {% elif clock.state == "met" %}{% blocktrans with done=clock.done|date:"DAY_MONTH_TIME_FORMAT" %}met ({{ done }}){% endblocktrans %}
            {% elif clock.state == "late" %}{% blocktrans with done=clock.done|date:"DAY_MONTH_TIME_FORMAT" due=clock.due|date:"DAY_MONTH_TIME_FORMAT" %}late ({{ done }}, due {{ due }}){% endblocktrans %}
            {% elif clock.state == "paused" %}{% blocktrans with due=clock.due|date:"DAY_MONTH_TIME_FORMAT" %}paused (due {{ due }}){% endblocktrans %}
            {% elif clock.state == "breached" %}{% blocktrans with since=clock.due|timesince %}breached {{ since }} ago{% endblocktrans %}
            {% else %}{% blocktrans with until=clock.due|timeuntil %}due in {{ until }}{% endblocktrans %}{% if clock.state == "due_soon" %} — {% trans "at risk" %}{% endif %}
            {% endif %}
          </li>
        {% endfor %}"""  # noqa: E501
TAG_CLOCKS = "{% load desk_tags %}{% clock_rows clocks %}"


def clocks():
    """Every state (and one unknown) with due and done times aware on both sides of
    a DST change, naive, in another zone or missing; labels lazy, plain and needing
    escaping."""
    now = timezone.now()
    labels = [
        workspace.CLOCK_LABELS["first_response"],
        workspace.CLOCK_LABELS["resolution"],
        'A <b>"label"</b> & more',
    ]
    times = [
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
        datetime(2026, 5, 1, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata")),
        datetime(2026, 7, 1, 23, 59),
        None,
    ]
    states = ["none", "met", "late", "paused", "breached", "due_soon", "running", "<x>"]
    n = 0
    for state in states:
        for done in times:
            for due in [*times, now - timedelta(days=3, hours=5, minutes=7)]:
                if state in ("breached", "due_soon", "running", "<x>"):
                    due = now + timedelta(days=n % 3 - 1, hours=5, minutes=7)
                n += 1
                yield workspace.Clock(labels[n % len(labels)], due, done, state)


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw", "America/New_York"])
@pytest.mark.parametrize("autoescape", [True, False])
def test_clock_rows_are_the_template_loop(language, zone, autoescape):
    ours, theirs = Template(TAG_CLOCKS), Template(TEMPLATE_CLOCKS)
    with translation.override(language), timezone.override(ZoneInfo(zone)):
        listed = list(clocks())
        for rows in (listed, listed[:1], [], None):
            context = {"clocks": rows}
            expected = theirs.render(Context(context, autoescape=autoescape))
            assert ours.render(Context(context, autoescape=autoescape)) == expected
            assert rows or expected == ""


def test_clock_rows_follow_localtime_off():
    listed = list(clocks())
    with timezone.override(ZoneInfo("Asia/Kolkata")):
        ours = Template(
            "{% load desk_tags tz %}{% localtime off %}{% clock_rows clocks %}"
            "{% endlocaltime %}"
        )
        theirs = Template(
            "{% load tz %}{% localtime off %}" + TEMPLATE_CLOCKS + "{% endlocaltime %}"
        )
        context = {"clocks": listed}
        assert ours.render(Context(context)) == theirs.render(Context(context))


def test_a_translation_that_does_not_fit_falls_back_to_the_msgid(monkeypatch):
    """As ``{% blocktrans %}`` does: the untranslated message, rendered again with no
    language active."""
    real = translation.gettext

    def broken(message):
        if message.startswith("met (") and translation.get_language() is not None:
            return "spełniono (%(nie_ma)s)"
        return real(message)

    monkeypatch.setattr(translation, "gettext", broken)
    monkeypatch.setattr(desk_tags, "gettext", broken)
    monkeypatch.setattr(translations, "gettext", broken)
    monkeypatch.setattr(translations, "_TRANSLATED", {})  # translated again
    listed = [workspace.Clock("First", None, datetime(2026, 1, 2, tzinfo=UTC), "met")]
    with translation.override("pl"):
        expected = Template(TEMPLATE_CLOCKS).render(Context({"clocks": listed}))
        assert Template(TAG_CLOCKS).render(Context({"clocks": listed})) == expected
    # untranslated, and its date rendered with no language: the format's name
    # itself is read as a format, as Django's fallback does
    assert "desk-clock--met" in expected
    assert "met (FriAM2026" in expected


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_conversation_ids_follow_thousand_separators_and_localize_off(
    settings, language
):
    """``id="comment-{{ comment.pk }}"`` was localized: grouped where the settings
    group numbers, not inside ``{% localize off %}``."""
    settings.USE_THOUSAND_SEPARATOR = True
    listed = list(comments())
    listed[0].pk = 1234567
    for wrap in ("{}", "{{% localize off %}}{}{{% endlocalize %}}"):
        ours = Template(
            "{% load desk_tags l10n %}"
            + wrap.format("{% conversation_rows comments %}")
        )
        theirs = Template(
            LOADED
            + "{% load l10n %}"
            + wrap.format(TEMPLATE_MESSAGES.removeprefix(LOADED))
        )
        with translation.override(language):
            expected = theirs.render(Context({"comments": listed}))
            assert ours.render(Context({"comments": listed})) == expected
    assert 'id="comment-1234567"' in expected


def test_one_author_shown_once_per_list_each_their_own():
    """Comments of saved authors: each comment shows its own author's name."""
    ann = User(pk=1, email="ann@example.com", display_name="Ann <1>")
    bob = User(pk=2, email="bob@example.com", display_name="Bob & co")
    listed = []
    for n, author in enumerate([ann, bob, ann, bob]):
        comment = Comment(pk=n + 1, author=author, body="b", created_at=WHENS[0])
        comment.files = []
        listed.append(comment)
    context = {"comments": listed}
    expected = Template(TEMPLATE_MESSAGES).render(Context(context))
    assert Template(TAG_MESSAGE).render(Context(context)) == expected
    assert expected.count("Ann &lt;1&gt;") == 2 and expected.count("Bob &amp; co") == 2


def test_one_actor_and_label_shown_once_per_list_each_their_own():
    ann = User(pk=1, email="ann@example.com", display_name="Ann <1>")
    bob = User(pk=2, email="bob@example.com", display_name="Bob & co")
    changes = [
        (ann, EventKind.STATUS_CHANGED, "new", "open"),
        (bob, EventKind.STATUS_CHANGED, "open", "new"),
        (ann, EventKind.PRIORITY_CHANGED, "low", "high"),
        (None, EventKind.STATUS_CHANGED, "new", "open"),
        (bob, EventKind.TAGS_CHANGED, "new", "open"),
    ]
    listed = [
        TicketEvent(
            kind=kind, old_value=old, new_value=new, actor=actor, created_at=WHENS[1]
        )
        for actor, kind, old, new in changes
    ]
    for language in ("en", "pl", "ru"):
        with translation.override(language):
            expected = Template(TEMPLATE_ROWS).render(Context({"events": listed}))
            assert Template(TAG_ROW).render(Context({"events": listed})) == expected
    assert expected.count("Ann &lt;1&gt;") == 2 and expected.count("Bob &amp; co") == 2
