"""The KB review workflow binds editors: Editors lose ``publish_page`` on the knowledge
base (they submit for review; moderators, administrators or another editor approve),
and the workflow's approval step becomes a ``PeerReviewTask`` with the same groups, so
nobody approves their own submission. Reviews already in progress stay on the old
task, which stays active until they are done; new ones use the peer review."""

from django.db import migrations

TASK_NAME = "Moderators approval"
WORKFLOW_NAME = "Knowledge base review"


def forwards(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    PeerReviewTask = apps.get_model("kb", "PeerReviewTask")
    KnowledgeBasePage = apps.get_model("kb", "KnowledgeBasePage")

    editors = Group.objects.filter(name="Editors").first()
    publish = Permission.objects.filter(
        content_type__app_label="wagtailcore", codename="publish_page"
    ).first()
    kb_pages = list(KnowledgeBasePage.objects.values_list("pk", flat=True))
    if editors is not None and publish is not None:
        GroupPagePermission.objects.filter(
            group=editors, permission=publish, page_id__in=kb_pages
        ).delete()

    workflow = Workflow.objects.filter(name=WORKFLOW_NAME).first()
    if workflow is None:
        return
    content_type, _ = ContentType.objects.get_or_create(
        app_label="kb", model="peerreviewtask"
    )
    for link in WorkflowTask.objects.filter(workflow=workflow).select_related("task"):
        old = link.task
        if old.content_type_id == content_type.pk:
            continue
        task = PeerReviewTask.objects.create(
            name=old.name, active=True, content_type=content_type
        )
        GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")
        approval = GroupApprovalTask.objects.filter(pk=old.pk).first()
        groups = list(approval.groups.all()) if approval is not None else []
        if editors is not None and editors not in groups:
            groups.append(editors)
        task.groups.set(groups)
        link.task = task
        link.save(update_fields=["task"])


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0005_peer_review_task"),
        ("kb", "0002_knowledge_base_and_editors"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
