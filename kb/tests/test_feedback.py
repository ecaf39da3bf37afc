"""Feedback is counted once per reader, works without JavaScript, and is refused (as a
missing article) for readers who may not see the article."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kb import services
from kb.models import ArticleFeedback, ArticlePage


def test_second_vote_by_the_same_user_replaces_the_first(make_article, make_user):
    article = make_article()
    user = make_user("reader@example.com", groups=["Customers"])
    first = services.submit_feedback(
        article, user=user, session_key="", helpful=True, comment=""
    )
    second = services.submit_feedback(
        article, user=user, session_key="other", helpful=False, comment="Too short."
    )
    assert second.pk == first.pk
    assert ArticleFeedback.objects.filter(article=article).count() == 1
    feedback = ArticleFeedback.objects.get()
    assert (feedback.helpful, feedback.comment, feedback.user) == (
        False,
        "Too short.",
        user,
    )


def test_anonymous_votes_count_once_per_session(make_article):
    article = make_article()
    for helpful in (True, False, True):
        services.submit_feedback(
            article, user=None, session_key="s1", helpful=helpful, comment=""
        )
    services.submit_feedback(article, user=None, session_key="s2", helpful=False)
    assert sorted(ArticleFeedback.objects.values_list("session_key", "helpful")) == [
        ("s1", True),
        ("s2", False),
    ]


def test_feedback_on_hidden_article_looks_missing_and_writes_nothing(make_article):
    article = make_article(audience="agents")
    with pytest.raises(ArticlePage.DoesNotExist):
        services.submit_feedback(
            article, user=None, session_key="s1", helpful=True, comment=""
        )
    assert ArticleFeedback.objects.count() == 0


def test_too_long_comment_is_refused_and_nothing_written(make_article):
    article = make_article()
    with pytest.raises(services.FeedbackError):
        services.submit_feedback(
            article, user=None, session_key="s1", helpful=True, comment="x" * 1001
        )
    assert ArticleFeedback.objects.count() == 0


def test_form_post_without_javascript_records_and_redirects_back(client, make_article):
    article = make_article()
    url = reverse("kb:feedback", args=[article.pk])
    response = client.post(url, {"helpful": "no", "comment": "Missing a screenshot."})
    assert response.status_code == 302
    assert response["Location"] == article.url + "#feedback"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Thank you for your feedback."
    ]
    client.post(url, {"helpful": "yes"})
    feedback = ArticleFeedback.objects.get()
    assert (feedback.helpful, feedback.comment, feedback.user) == (True, "", None)
    assert feedback.session_key == client.session.session_key


def test_form_post_with_bad_input_shows_an_error_and_writes_nothing(
    client, make_article
):
    article = make_article()
    response = client.post(
        reverse("kb:feedback", args=[article.pk]), {"helpful": "maybe"}
    )
    assert response.status_code == 302
    assert ArticleFeedback.objects.count() == 0
    [message] = get_messages(response.wsgi_request)
    assert message.level_tag == "error"


def test_form_post_to_hidden_article_is_404(client, make_article):
    article = make_article(audience="customers")
    response = client.post(
        reverse("kb:feedback", args=[article.pk]), {"helpful": "yes"}
    )
    assert response.status_code == 404
    assert (
        client.post(
            reverse("kb:feedback", args=[999999]), {"helpful": "yes"}
        ).status_code
        == 404
    )
    assert ArticleFeedback.objects.count() == 0


def test_feedback_get_is_not_allowed(client, make_article):
    article = make_article()
    assert client.get(reverse("kb:feedback", args=[article.pk])).status_code == 405
