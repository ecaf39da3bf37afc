"""Create the KB index at /kb/, give Editors what they need to run it, and put it under
a moderation workflow (an approval task) so that articles are approved before they go
live. Idempotent: re-running finds what exists."""

from django.db import migrations

KB_SLUG = "kb"
WORKFLOW_NAME = "Knowledge base review"
TASK_NAME = "Moderators approval"
PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
COLLECTION_PERMISSIONS = {
    "wagtailimages": ["add_image", "change_image", "choose_image"],
    "wagtaildocs": ["add_document", "change_document", "choose_document"],
}


def _permission(apps, app_label, model, codename):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type,
        codename=codename,
        defaults={"name": codename.replace("_", " ").capitalize()},
    )
    return permission


def create_knowledge_base(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Group = apps.get_model("auth", "Group")
    Page = apps.get_model("wagtailcore", "Page")
    HomePage = apps.get_model("portal", "HomePage")
    KnowledgeBasePage = apps.get_model("kb", "KnowledgeBasePage")
    GroupPagePermission = apps.get_model("wagtailcore", "GroupPagePermission")
    GroupCollectionPermission = apps.get_model("wagtailcore", "GroupCollectionPermission")
    Collection = apps.get_model("wagtailcore", "Collection")
    Workflow = apps.get_model("wagtailcore", "Workflow")
    WorkflowTask = apps.get_model("wagtailcore", "WorkflowTask")
    WorkflowPage = apps.get_model("wagtailcore", "WorkflowPage")
    GroupApprovalTask = apps.get_model("wagtailcore", "GroupApprovalTask")

    home = HomePage.objects.order_by("path").first()
    if home is None:
        return
    kb = KnowledgeBasePage.objects.filter(path__startswith=home.path, depth=home.depth + 1).first()
    if kb is None:
        children = Page.objects.filter(path__startswith=home.path, depth=home.depth + 1)
        last = children.order_by("-path").values_list("path", flat=True).first()
        number = int(last[-4:], 36) + 1 if last else 1
        step = ""
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        for _ in range(4):
            number, digit = divmod(number, 36)
            step = alphabet[digit] + step
        content_type, _ = ContentType.objects.get_or_create(
            app_label="kb", model="knowledgebasepage"
        )
        kb = KnowledgeBasePage.objects.create(
            title="Knowledge base",
            draft_title="Knowledge base",
            slug=KB_SLUG,
            content_type=content_type,
            path=home.path + step,
            depth=home.depth + 1,
            numchild=0,
            url_path=f"{home.url_path}{KB_SLUG}/",
            locale_id=home.locale_id,
            live=True,
            intro="Guides, how-tos and answers about Lumen.",
        )
        Page.objects.filter(pk=home.pk).update(numchild=children.count())

    editors, _ = Group.objects.get_or_create(name="Editors")
    editors.permissions.add(_permission(apps, "wagtailadmin", "admin", "access_admin"))
    for codename in PAGE_PERMISSIONS:
        GroupPagePermission.objects.get_or_create(
            group=editors,
            page_id=kb.pk,
            permission=_permission(apps, "wagtailcore", "page", codename),
        )
    root_collection = Collection.objects.filter(depth=1).first()
    if root_collection is not None:
        for app_label, codenames in COLLECTION_PERMISSIONS.items():
            for codename in codenames:
                model = codename.split("_", 1)[1]
                GroupCollectionPermission.objects.get_or_create(
                    group=editors,
                    collection=root_collection,
                    permission=_permission(apps, app_label, model, codename),
                )

    task_type, _ = ContentType.objects.get_or_create(
        app_label="wagtailcore", model="groupapprovaltask"
    )
    workflow, _ = Workflow.objects.get_or_create(name=WORKFLOW_NAME, defaults={"active": True})
    if not WorkflowTask.objects.filter(workflow=workflow).exists():
        task = GroupApprovalTask.objects.create(
            name=TASK_NAME, content_type=task_type, active=True
        )
        task.groups.add(editors)
        moderators = Group.objects.filter(name="Moderators").first()
        if moderators is not None:
            task.groups.add(moderators)
        WorkflowTask.objects.create(workflow=workflow, task=task, sort_order=0)
    WorkflowPage.objects.update_or_create(page_id=kb.pk, defaults={"workflow": workflow})


class Migration(migrations.Migration):
    dependencies = [
        ("kb", "0001_initial"),
        ("portal", "0002_create_homepage"),
        ("accounts", "0002_roles"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailimages", "0027_image_description"),
        ("wagtaildocs", "0014_alter_document_file_size"),
        ("wagtailadmin", "0006_formstate"),
    ]
    operations = [migrations.RunPython(create_knowledge_base, migrations.RunPython.noop)]
