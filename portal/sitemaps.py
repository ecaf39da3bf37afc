"""The sitemap: every live public page in every language, each entry naming its other
language versions (``<xhtml:link rel="alternate" hreflang>``, Django's sitemap
template). Wagtail's own sitemap walks the default site root only, and each
translation of the root is a separate tree (``WAGTAIL_I18N_ENABLED``)."""

from django.db.models import Q
from wagtail.contrib.sitemaps import Sitemap
from wagtail.models import Locale, Page


class MultilingualSitemap(Sitemap):
    def items(self):
        root = self.get_wagtail_site().root_page
        trees = Q()
        for version in Page.objects.filter(translation_key=root.translation_key):
            trees |= Q(path__startswith=version.path)
        return (
            Page.objects.filter(trees)
            .live()
            .public()
            .order_by("path")
            .defer_streamfields()
            .specific()
        )

    def _urls(self, page, protocol, domain):
        urls, last_mods, groups = [], set(), {}
        languages = dict(Locale.objects.values_list("pk", "language_code"))
        for item in self.paginator.page(page).object_list.iterator():
            language = languages.get(item.locale_id, "")
            for url_info in item.get_sitemap_urls(self.request):
                urls.append(url_info)
                last_mods.add(url_info.get("lastmod"))
                groups.setdefault(item.translation_key, []).append(
                    {"lang_code": language, "location": url_info["location"]}
                )
                url_info["alternates"] = groups[item.translation_key]
        if last_mods and None not in last_mods:
            self.latest_lastmod = max(last_mods)
        for url_info in urls:
            if len(url_info["alternates"]) < 2:
                url_info["alternates"] = []
        return urls
