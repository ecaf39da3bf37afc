"""Editors cannot publish around the review workflow, and nobody approves their own
submission: another editor or a moderator does."""

from kb.models import PeerReviewTask


def test_review_is_binding_and_never_self_approved(make_article, make_user):
    from wagtail.models import TaskState

    author = make_user("author@example.com", groups=["Editors"])
    peer = make_user("peer@example.com", groups=["Editors"])
    outsider = make_user("reader@example.com")
    article = make_article("Draft article")

    assert not article.permissions_for_user(author).can_publish()
    assert article.permissions_for_user(author).can_edit()

    workflow = article.get_workflow()
    [task] = [t.specific for t in workflow.tasks]
    assert isinstance(task, PeerReviewTask)

    article.title = "Draft article, revised"
    article.save_revision(user=author)
    workflow.start(article, author)
    article.refresh_from_db()

    # the author gets no approve/reject action and no "awaiting your review" entry
    assert task.get_actions(article, author) == []
    assert not TaskState.objects.reviewable_by(author).exists()
    # another editor does
    assert [name for name, _, _ in task.get_actions(article, peer)] == [
        "reject",
        "approve",
        "approve",
    ]
    [state] = TaskState.objects.reviewable_by(peer)
    assert state.workflow_state.requested_by == author
    # someone outside the groups neither
    assert task.get_actions(article, outsider) == []
    assert not TaskState.objects.reviewable_by(outsider).exists()
