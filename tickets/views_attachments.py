"""Attachment downloads: the only way to a ticket's files.

Permission-checked through the ticket policy (internal-note files also need
``view_internal``); a file the user may not have answers 404 like a missing one. Local
storage streams the file as a download with ``nosniff``; S3 redirects to a short-lived
signed URL (``querystring_expire`` in settings).

API integrators follow GraphQL's ``Attachment.url`` with the same credentials they
used there: ``Authorization: Bearer <secret>`` (any valid token; reading needs no
``write`` scope). A bad, expired or revoked token is refused with 401 and never falls
back to the session, as on /graphql/; the permission check is the same either way.
"""

from django.core.files.storage import FileSystemStorage
from django.http import FileResponse, Http404, HttpResponseRedirect, JsonResponse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from accounts.tokens import TokenError, authenticate_authorization

from . import permissions
from .models import Attachment
from .storage import attachment_backend


def _unauthenticated(message: str) -> JsonResponse:
    """The refusal shape integrators already know from /graphql/."""
    response = JsonResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status=401,
    )
    response["WWW-Authenticate"] = 'Bearer realm="attachments"'
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def download_attachment(request, pk: int, name: str):
    try:
        token = authenticate_authorization(request.META.get("HTTP_AUTHORIZATION"))
    except TokenError as exc:
        return _unauthenticated(str(exc))
    user = token.owner if token is not None else request.user
    attachment = (
        Attachment.objects.select_related("ticket", "comment").filter(pk=pk).first()
    )
    if (
        attachment is None
        or attachment.original_name != name
        or not permissions.can_download(user, attachment)
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
