"""The Organization 360's timeline, paginated: the entries are ``crm.timeline``'s (its
sources and merge, the one owner); this module only pages them.

A page is merged from the sources without loading them whole: for page ``n`` of size
``s`` each source gives its newest ``n × s`` rows (one query each), the merge keeps
the page's slice. Counting costs one query per source. The number of queries is
therefore fixed whatever the number of rows."""

from django.core.paginator import Page, Paginator

from .. import timeline

PAGE_SIZE = 25
KINDS = timeline.KINDS


class _Merged:
    """A sequence the paginator can count and slice: each slice asks every source for
    its first rows up to the slice's end."""

    def __init__(self, sources):
        self.sources = sources
        self._count = None

    def count(self):
        if self._count is None:
            self._count = timeline.count(self.sources)
        return self._count

    def __len__(self):
        return self.count()

    def __getitem__(self, window):
        assert isinstance(window, slice)
        return timeline.merge(self.sources, window.stop)[window.start : window.stop]


def page(user, organization, *, kinds=KINDS, start=None, end=None, number=1) -> Page:
    sources = timeline.sources(user, organization, kinds or KINDS, start=start, end=end)
    return Paginator(_Merged(sources), PAGE_SIZE).get_page(number)
