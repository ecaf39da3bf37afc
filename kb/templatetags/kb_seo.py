from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def absolute_page_url(context, page) -> str:
    """The page's absolute URL on the host the reader asked for (canonical, og:url).

    ``page.full_url`` is built from the Wagtail Site record (``http://localhost`` in
    the demo) whatever the host; the request's scheme and host (checked against
    ALLOWED_HOSTS) are what the reader and crawlers actually use."""
    request = context.get("request")
    if request is None:
        return page.full_url or ""
    url = page.get_url(request)
    if not url:
        return ""
    return request.build_absolute_uri(url)
