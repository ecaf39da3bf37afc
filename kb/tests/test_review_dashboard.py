"""The Wagtail dashboard's "Awaiting your review" panel: an editor's own submission is
not listed for them; another editor sees it there."""


def test_own_submission_is_not_awaiting_the_authors_review(
    make_article, make_user, client
):
    author = make_user("author@example.com", groups=["Editors"])
    peer = make_user("peer@example.com", groups=["Editors"])
    article = make_article("Draft article")
    article.title = "Draft article, revised"
    article.save_revision(user=author)
    article.get_workflow().start(article, author)

    client.force_login(peer)
    page = client.get("/admin/").content.decode()
    assert "Awaiting your review" in page
    assert "Draft article, revised" in page

    client.force_login(author)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert "Awaiting your review" not in response.content.decode()
