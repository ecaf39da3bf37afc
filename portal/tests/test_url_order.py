"""The order of the site's URL patterns: the portal's and GraphQL's includes are tried
first (every filing resolves its path: each pattern tried before the one that matches
costs ~5 Python calls), and that order decides nothing else: no other route lives
under their prefixes, so none is shadowed by them."""

from unittest import mock

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from graphql_api.views import PortalGraphQLView
from tickets import urls as tickets_urls
from tickets.portal import new

from .routes import all_routes

FIRST_PREFIXES = ("/portal/", "/graphql/")


def _patterns_tried(path):
    """The URL patterns and resolvers whose ``resolve`` ran to resolve ``path``."""
    tried = []
    pattern_resolve, resolver_resolve = URLPattern.resolve, URLResolver.resolve

    def on_pattern(self, path):
        tried.append(self)
        return pattern_resolve(self, path)

    def on_resolver(self, path):
        tried.append(self)
        return resolver_resolve(self, path)

    with (
        mock.patch.object(URLPattern, "resolve", on_pattern),
        mock.patch.object(URLResolver, "resolve", on_resolver),
    ):
        match = resolve(path)
    return match, tried


def test_the_filing_path_is_the_first_pattern_tried():
    match, tried = _patterns_tried("/portal/tickets/new/")
    assert match.func is new.new_ticket
    assert match.view_name == "tickets:portal_new_ticket"
    # the root, the portal's include, the filing's route: nothing else tried
    assert len(tried) == 3, [str(p.pattern) for p in tried]


def test_the_graphql_path_is_tried_right_after_the_portal():
    match, tried = _patterns_tried("/graphql/")
    assert match.view_name == "graphql_api:graphql"
    assert match.func.view_class is PortalGraphQLView
    # the root, the portal's include (no match), GraphQL's include and its route
    assert len(tried) == 4, [str(p.pattern) for p in tried]


def test_the_portal_and_graphql_includes_come_first():
    first, second = get_resolver().url_patterns[:2]
    assert isinstance(first, URLResolver) and str(first.pattern) == "portal/"
    assert isinstance(second, URLResolver) and str(second.pattern) == "graphql/"
    assert first.url_patterns[0].name == "portal_new_ticket"


@pytest.mark.parametrize("prefix", FIRST_PREFIXES)
def test_no_other_route_lives_under_the_first_prefixes(prefix):
    """Tried first, the two includes would shadow any other route under their
    prefixes: there is none (each route's sample path, walked over the whole URLconf)."""
    owner = prefix.lstrip("/")  # the include's own pattern: "portal/", "graphql/"
    under = [route for route in all_routes() if route.path.startswith(prefix)]
    assert under  # the walk reaches them
    for route in under:
        assert route.route.startswith(owner), route.route


def test_every_portal_route_still_reaches_its_view():
    """The filing's route first in ``tickets.urls`` shadows none of the others."""
    portal_routes = [r for r in all_routes() if r.route.startswith("portal/")]
    assert len(portal_routes) == len(tickets_urls.urlpatterns)
    for route in portal_routes:
        assert route.served, (route.route, route.path, route.served_by)
