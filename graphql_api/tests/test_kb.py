"""Knowledge base through GraphQL: audiences, lists, search, feedback."""

import pytest
from wagtail.models import Site

from kb.models import ArticleFeedback

ARTICLES = "{ articles { totalCount edges { node { title audience } } } }"


@pytest.fixture
def kb(make_article):
    return {
        "public": make_article("Reset your password", tags=["login"]),
        "customers": make_article("Invoices explained", audience="customers"),
        "agents": make_article("Escalation runbook", audience="agents"),
        "draft": make_article("Unpublished draft", publish=False),
    }


def titles(data, field="articles"):
    return [edge["node"]["title"] for edge in data[field]["edges"]]


def test_anonymous_sees_public_articles_only(kb, anon):
    data = anon(ARTICLES)
    assert data["articles"]["totalCount"] == 1
    assert titles(data) == ["Reset your password"]


def test_customer_sees_public_and_customer_articles(kb, alice, as_user):
    assert titles(as_user(alice)(ARTICLES)) == [
        "Invoices explained",
        "Reset your password",
    ]


def test_staff_see_every_audience(kb, agent, as_user):
    assert titles(as_user(agent)(ARTICLES)) == [
        "Escalation runbook",
        "Invoices explained",
        "Reset your password",
    ]


def test_article_fields(kb, anon):
    data = anon(
        '{ article(slug: "reset-your-password") { title slug url summary body '
        "tags audience updatedAt helpfulCount notHelpfulCount "
        "category { title slug url } } }"
    )
    article = data["article"]
    assert article["title"] == "Reset your password"
    assert article["url"] == "http://localhost/kb/getting-started/reset-your-password/"
    assert article["summary"] == "About reset your password."
    assert article["body"][0]["type"] == "paragraph"
    assert article["body"][0]["value"] == "<p>Reset your password explained.</p>"
    assert article["tags"] == ["login"]
    assert article["audience"] == "PUBLIC"
    assert article["updatedAt"] is not None
    assert (article["helpfulCount"], article["notHelpfulCount"]) == (0, 0)
    assert article["category"] == {
        "title": "Getting started",
        "slug": "getting-started",
        "url": "http://localhost/kb/getting-started/",
    }


@pytest.mark.parametrize(
    ("slug", "caller"),
    [
        ("invoices-explained", "anonymous"),
        ("escalation-runbook", "customer"),
        ("unpublished-draft", "agent"),
        ("no-such-article", "agent"),
    ],
)
def test_hidden_article_is_null(kb, alice, agent, anon, as_user, slug, caller):
    gql = {"anonymous": anon, "customer": None, "agent": None}[caller]
    gql = gql or as_user(alice if caller == "customer" else agent)
    assert gql(f'{{ article(slug: "{slug}") {{ title }} }}') == {"article": None}


@pytest.mark.parametrize("slug", ["", " ", "x" * 300, "../etc"])
def test_malformed_slug_is_a_clear_error(db, anon, slug):
    errors = anon.errors(
        "query($s: String!) { article(slug: $s) { title } }", {"s": slug}
    )
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT"}


def test_articles_filters(kb, make_category, make_article, agent, as_user):
    billing = make_category("Billing")
    make_article("Refunds", parent=billing, tags=["money"])
    gql = as_user(agent)
    query = "query($f: ArticleFilter) { articles(filters: $f) { edges { node { title } } } }"
    assert titles(gql(query, {"f": {"category": "billing"}})) == ["Refunds"]
    assert titles(gql(query, {"f": {"tag": "login"}})) == ["Reset your password"]
    assert titles(gql(query, {"f": {"audience": "AGENTS"}})) == ["Escalation runbook"]
    assert titles(gql(query, {"f": {"category": "nope"}})) == []


def test_articles_pagination(make_article, anon):
    for i in range(5):
        make_article(f"Article {i}")
    page = anon(
        "{ articles(first: 2) { totalCount pageInfo { hasNextPage endCursor } "
        "edges { node { title } } } }"
    )
    assert titles(page) == ["Article 0", "Article 1"]
    assert page["articles"]["totalCount"] == 5
    assert page["articles"]["pageInfo"]["hasNextPage"] is True
    after = page["articles"]["pageInfo"]["endCursor"]
    nxt = anon(
        "query($a: String) { articles(first: 2, after: $a) { edges { node { title } } } }",
        {"a": after},
    )
    assert titles(nxt) == ["Article 2", "Article 3"]


@pytest.mark.parametrize("first", [101, -1])
def test_page_size_out_of_range_is_refused(db, anon, first):
    errors = anon.errors(f"{{ articles(first: {first}) {{ totalCount }} }}")
    assert errors[0]["message"] == "'first' must be between 0 and 100."
    assert errors[0]["extensions"] == {"code": "PAGE_SIZE"}


def test_garbage_cursor_is_a_clear_error(db, anon):
    errors = anon.errors('{ articles(after: "!!not-a-cursor!!") { totalCount } }')
    assert errors[0]["extensions"]["code"] in {"BAD_REQUEST", "BAD_CURSOR"}


def test_articles_list_costs_a_fixed_number_of_queries(
    make_article, anon, django_assert_max_num_queries
):
    for i in range(12):
        make_article(f"Article {i}", tags=["a", "b"])
    query = (
        "{ articles(first: 100) { totalCount edges { node { title tags category "
        "{ slug } helpfulCount notHelpfulCount audience url } } } }"
    )
    # Wagtail keeps the sites' root paths in the cache for a day; a running site has
    # them, so warm them as the first request after a start would.
    Site.get_site_root_paths()
    with django_assert_max_num_queries(8):
        data = anon(query)
    assert len(data["articles"]["edges"]) == 12


def test_search_articles_respects_audiences(kb, anon, agent, as_user):
    query = (
        "query($q: String!) { searchArticles(query: $q, first: 10) "
        "{ totalCount edges { node { title } } } }"
    )
    assert titles(anon(query, {"q": "explained"}), "searchArticles") == [
        "Reset your password"
    ]
    found = titles(as_user(agent)(query, {"q": "explained"}), "searchArticles")
    assert sorted(found) == [
        "Escalation runbook",
        "Invoices explained",
        "Reset your password",
    ]


@pytest.mark.parametrize("text", ["", "x" * 300])
def test_search_with_bad_query_is_a_clear_error(db, anon, text):
    errors = anon.errors(
        "query($q: String!) { searchArticles(query: $q) { totalCount } }", {"q": text}
    )
    assert errors[0]["extensions"] == {"code": "INVALID_INPUT"}


def test_categories(kb, make_category, anon):
    make_category("Billing")
    assert anon("{ categories { title slug } }") == {
        "categories": [
            {"title": "Getting started", "slug": "getting-started"},
            {"title": "Billing", "slug": "billing"},
        ]
    }
    assert anon("{ categories(first: 1, offset: 1) { slug } }") == {
        "categories": [{"slug": "billing"}]
    }
    errors = anon.errors("{ categories(first: 101) { slug } }")
    assert [(e["message"], e["extensions"]) for e in errors] == [
        ("'first' must be between 0 and 100.", {"code": "PAGE_SIZE"})
    ]


FEEDBACK = """mutation($i: SubmitArticleFeedbackInput!) {
  submitArticleFeedback(input: $i) {
    __typename
    ... on Article { helpfulCount notHelpfulCount }
    ... on OperationInfo { messages { kind field message } }
  }
}"""


def test_submit_feedback_records_one_vote_per_person(kb, alice, as_user):
    gql = as_user(alice)
    inp = {"articleSlug": "reset-your-password", "helpful": True, "comment": "Nice"}
    data = gql(FEEDBACK, {"i": inp})
    assert data["submitArticleFeedback"]["__typename"] == "Article"
    gql(FEEDBACK, {"i": {**inp, "helpful": False}})
    vote = ArticleFeedback.objects.get()
    assert (vote.user, vote.helpful, vote.comment) == (alice, False, "Nice")
    after = gql(
        '{ article(slug: "reset-your-password") { helpfulCount notHelpfulCount } }'
    )
    assert after == {"article": {"helpfulCount": 0, "notHelpfulCount": 1}}


def test_feedback_on_hidden_article_looks_missing(kb, alice, as_user):
    data = as_user(alice)(
        FEEDBACK, {"i": {"articleSlug": "escalation-runbook", "helpful": True}}
    )
    assert data["submitArticleFeedback"] == {
        "__typename": "OperationInfo",
        "messages": [{"kind": "ERROR", "field": None, "message": "Article not found."}],
    }
    assert ArticleFeedback.objects.count() == 0


def test_feedback_needs_a_signed_in_caller(kb, anon):
    data = anon(
        FEEDBACK, {"i": {"articleSlug": "reset-your-password", "helpful": True}}
    )
    assert data["submitArticleFeedback"]["messages"][0]["kind"] == "PERMISSION"
    assert ArticleFeedback.objects.count() == 0


@pytest.mark.parametrize(
    ("inp", "field"),
    [
        ({"articleSlug": "", "helpful": True}, "articleSlug"),
        ({"articleSlug": "x" * 1000, "helpful": True}, "articleSlug"),
        (
            {
                "articleSlug": "reset-your-password",
                "helpful": True,
                "comment": "x" * 1001,
            },
            None,
        ),
    ],
)
def test_feedback_with_bad_input_is_a_validation_message(
    kb, alice, as_user, inp, field
):
    data = as_user(alice)(FEEDBACK, {"i": inp})
    messages = data["submitArticleFeedback"]["messages"]
    assert [(m["kind"], m["field"]) for m in messages] == [("VALIDATION", field)]
    assert ArticleFeedback.objects.count() == 0


CODED_FEEDBACK = FEEDBACK.replace("kind field", "kind code field")


def test_feedback_refusal_carries_the_kb_code(kb, alice, as_user):
    inp = {"articleSlug": "reset-your-password", "helpful": True, "comment": "x" * 1001}
    data = as_user(alice)(CODED_FEEDBACK, {"i": inp})
    assert data["submitArticleFeedback"] == {
        "__typename": "OperationInfo",
        "messages": [
            {
                "kind": "VALIDATION",
                "code": "FEEDBACK_COMMENT_TOO_LONG",
                "field": None,
                "message": "Please keep the comment under 1000 characters.",
            }
        ],
    }
    assert ArticleFeedback.objects.count() == 0


def test_feedback_on_a_hidden_article_keeps_not_found(kb, alice, as_user):
    """The denied twin: a refusal that is not the domain's own keeps NOT_FOUND."""
    inp = {"articleSlug": "escalation-runbook", "helpful": True, "comment": "x" * 1001}
    data = as_user(alice)(CODED_FEEDBACK, {"i": inp})
    assert data["submitArticleFeedback"]["messages"] == [
        {
            "kind": "ERROR",
            "code": "NOT_FOUND",
            "field": None,
            "message": "Article not found.",
        }
    ]
    assert ArticleFeedback.objects.count() == 0


def test_read_only_token_cannot_submit_feedback(kb, alice, as_user):
    body = (
        as_user(alice, scopes="read")
        .post(FEEDBACK, {"i": {"articleSlug": "reset-your-password", "helpful": True}})
        .json()
    )
    assert body["data"] is None
    assert body["errors"][0]["extensions"] == {"code": "FORBIDDEN"}
    assert ArticleFeedback.objects.count() == 0
