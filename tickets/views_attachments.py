"""Attachment downloads: the only way to a ticket's files.

Permission-checked through the ticket policy (internal-note files also need
``view_internal``); a file the user may not have answers 404 like a missing one. Local
storage streams the file as a download with ``nosniff``; S3 redirects to a short-lived
signed URL (``querystring_expire`` in settings).
"""

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from . import permissions
from .models import Attachment
from .storage import attachment_backend


@require_GET
def download_attachment(request, pk: int, name: str):
    attachment = (
        Attachment.objects.select_related("ticket", "comment").filter(pk=pk).first()
    )
    if (
        attachment is None
        or attachment.original_name != name
        or not permissions.can_download(request.user, attachment)
    ):
        raise Http404("No such file.")
    backend = attachment_backend()
    if isinstance(backend, FileSystemStorage):
        response = FileResponse(
            backend.open(attachment.file.name, "rb"),
            as_attachment=True,
            filename=attachment.original_name,
            content_type=attachment.content_type,
        )
    else:
        disposition = content_disposition_header(True, attachment.original_name)
        url = backend.url(
            attachment.file.name,
            parameters={
                "ResponseContentDisposition": disposition,
                "ResponseContentType": attachment.content_type,
            },
        )
        response = HttpResponseRedirect(url)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
