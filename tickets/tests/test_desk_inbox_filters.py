"""The inbox's saved views and filter bar kept without their free text
(``{% inbox_filters %}``, ``tickets.desk.kept_fields.inbox_filters``): character for
character the former markup (``{{ form.q.value|default:'' }}`` & co.) rendered afresh
in the page's own context, for a kept bar and a new one, in each language, with text
that needs escaping, with a form in error (rendered afresh); a renamed queue or a
changed staff list shown at once."""

import pytest
from django.template.loader import get_template

from tickets.desk import kept_fields

pytestmark = pytest.mark.django_db
INBOX = "/admin/helpdesk/tickets/"
NASTY = "<b>\"Q&A\"</b> 'x' {{ y }} 100%"

# The bar's former free-text values, as the template printed them.
FORMER = {
    "{{ filter_q }}": "{{ form.q.value|default:'' }}",
    "{{ filter_organization }}": "{{ form.organization.value|default:'' }}",
    "{{ filter_tag }}": "{{ form.tag.value|default:'' }}",
    "{{ filter_order }}": "{{ order }}",
}


@pytest.fixture(autouse=True)
def fresh():
    kept_fields.forget_kept_fields()
    yield
    kept_fields.forget_kept_fields()


def _bar(html: str) -> str:
    start = html.index('<nav class="desk-views"')
    return html[start : html.index("</form>", start) + len("</form>")]


def _former(response) -> str:
    """The former bar (the include's source with the former expressions), rendered
    in the context the page was rendered in."""
    source = get_template(kept_fields.FILTER_BAR).template.source
    for new, old in FORMER.items():
        assert source.count(new) == 1, new
        source = source.replace(new, old)
    engine = get_template(kept_fields.FILTER_BAR).template.engine
    context = next(c for c in response.context if "rows" in c)
    return engine.from_string(source).render(context)


def _check(client, params) -> str:
    response = client.get(INBOX, params)
    assert response.status_code == 200
    bar = _bar(response.content.decode())
    assert bar == _former(response)
    return bar


def _kept_count() -> int:
    return len(kept_fields._kept_filter_bars._kept[1])


VARIANTS = [
    {},
    {"q": "printer"},
    {"q": NASTY},  # the same key as the one before: kept, other text
    {"q": NASTY, "tag": '<t>&"', "order": "--subject"},
    {"view": "queues", "queue": "support", "status": ["open", "new"]},
    {"view": "queues", "queue": "support", "status": ["open", "new"], "q": "x"},
    {"priority": "high", "assignee": "none", "per_page": "50", "organization": "Acme"},
    {"view": "mine", "q": "%00", "organization": "acme"},
]


@pytest.mark.parametrize("language", ["en", "pl", "ru"])
def test_the_bar_is_the_former_markup_kept_or_not(
    client, agent, queue, other_queue, acme, language
):
    agent.locale = language
    agent.save(update_fields=["locale"])
    client.force_login(agent)
    for params in VARIANTS:
        _check(client, params)
    kept = _kept_count()
    assert 0 < kept < len(VARIANTS)  # the same filters with other text: one bar
    for params in VARIANTS:  # now all kept
        _check(client, params)
    assert _kept_count() == kept


def test_escaped_text_fills_the_slots_once(client, supervisor, queue, other_queue):
    client.force_login(supervisor)
    slot = kept_fields._SLOTS["filter_tag"].strip("\x00")  # no NUL: the form takes it
    bar = _check(client, {"q": slot, "tag": NASTY})
    assert _kept_count() == 1  # the kept path, not a form in error
    assert f'value="{slot}"' in bar
    assert 'value="&lt;b&gt;&quot;Q&amp;A&quot;&lt;/b&gt; &#x27;x&#x27;' in bar
    assert "\x00" not in bar


def test_a_form_in_error_is_rendered_afresh(client, agent, queue):
    client.force_login(agent)
    for params in (
        {"organization": "No such <org>", "q": NASTY},
        {"per_page": "7<b>"},
        {"status": "nope", "q": "x"},
        {"q": "a\x00b"},
    ):
        bar = _check(client, params)
        assert "error-message" in bar
    assert _kept_count() == 0


def test_a_renamed_queue_and_a_new_agent_show_at_once(client, supervisor, queue):
    client.force_login(supervisor)
    _check(client, {"q": "x"})
    queue.name = "Support <renamed>"
    queue.save()
    bar = _check(client, {"q": "x"})
    assert "Support &lt;renamed&gt;" in bar
    from .factories import make_agent

    make_agent(queue, email="new.agent@example.com", display_name="Newly Hired")
    bar = _check(client, {"q": "x"})
    assert "Newly Hired" in bar
