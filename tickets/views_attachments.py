"""Attachment downloads: the only way to a ticket's files.

Permission-checked through the ticket policy (internal-note files also need
``view_internal``); a file the user may not have answers 404 like a missing one.
Encrypted bodies (the default, local or S3) and local plaintext files stream through
this view, decrypted chunk by chunk, as a download with ``nosniff`` and single-range
support (``Range: bytes=a-b`` → 206, past the end → 416; several ranges get the whole
file). A body that fails its integrity check is answered 500 with a message and
recorded as a security event: never its bytes. Plaintext files on S3 (written while
``ATTACHMENT_ENCRYPTION`` was off) redirect to a short-lived signed URL.

API integrators follow GraphQL's ``Attachment.url`` with the same credentials they
used there: ``Authorization: Bearer <secret>`` (any valid token; reading needs no
``write`` scope). A bad, expired or revoked token is refused with 401 and never falls
back to the session, as on /graphql/; the permission check is the same either way.
"""

import re

from django.core.files.storage import FileSystemStorage
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
    StreamingHttpResponse,
)
from django.utils.http import content_disposition_header
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from accounts.tokens import TokenError, authenticate_authorization

from . import permissions
from .attachments import AttachmentUnreadable, read_range
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
    if attachment.encryption_key_id or isinstance(backend, FileSystemStorage):
        response = _stream(request, attachment, user)
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


_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int):
    """``(start, end)`` of a single satisfiable range, ``None`` for the whole file (no
    header, several ranges, or one we do not parse), ``"unsatisfiable"`` past the end."""
    match = _RANGE.match((header or "").strip())
    if not match or size <= 0:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        length = int(last)
        if length == 0:
            return "unsatisfiable"
        return max(size - length, 0), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        return "unsatisfiable"
    return start, min(end, size - 1)


def _stream(request, attachment, user):
    size = attachment.size
    wanted = parse_range(request.headers.get("Range"), size)
    if wanted == "unsatisfiable":
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{size}"
        return response
    start, end = wanted or (0, size - 1)
    try:
        pieces = read_range(attachment, start, end, request=request, user=user)
    except AttachmentUnreadable:
        return HttpResponse(
            gettext(
                "This file failed its integrity check and was not sent. "
                "The support team has been alerted."
            ),
            status=500,
            content_type="text/plain; charset=utf-8",
        )
    response = StreamingHttpResponse(
        pieces, status=206 if wanted else 200, content_type=attachment.content_type
    )
    response["Content-Length"] = str(end - start + 1)
    response["Accept-Ranges"] = "bytes"
    response["Content-Disposition"] = content_disposition_header(
        True, attachment.original_name
    )
    if wanted:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response
