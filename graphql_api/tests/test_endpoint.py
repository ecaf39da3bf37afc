"""The endpoint's HTTP behaviour: authentication, CSRF, body parsing, GET, GraphiQL."""

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken

from .conftest import URL, Gql

ME = "{ me { email } }"


def test_anonymous_me_is_null(anon):
    assert anon(ME) == {"me": None}


def test_bearer_token_authenticates_as_its_owner(alice, as_user):
    assert as_user(alice)(ME) == {"me": {"email": "alice@acme.example"}}


def test_bearer_request_needs_no_csrf_token(alice, token_for):
    gql = Gql(Client(enforce_csrf_checks=True), token_for(alice))
    assert gql(ME) == {"me": {"email": "alice@acme.example"}}


@pytest.mark.parametrize(
    "header",
    [
        "Bearer hdp_000000000000.garbage",
        "Bearer",
        "Bearer ",
        "Basic YWxpY2U6cGFzcw==",
        "hdp_abc.def",
    ],
)
def test_bad_authorization_header_is_401_json(db, header):
    response = Client().post(
        URL,
        {"query": ME},
        content_type="application/json",
        headers={"Authorization": header},
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="graphql"'
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}


def test_revoked_token_is_401_and_does_not_fall_back_to_the_session(
    alice, token_for, password
):
    secret = token_for(alice)
    ApiToken.objects.update(revoked_at=timezone.now())
    client = Client()
    assert client.login(email="alice@acme.example", password=password)
    response = client.post(
        URL,
        {"query": ME},
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401
    assert response.json()["errors"][0]["message"] == (
        "Invalid, expired or revoked API token."
    )


def test_expired_token_is_401(expired_secret):
    response = Gql(Client(), expired_secret).post(ME)
    assert response.status_code == 401


def test_token_of_inactive_user_is_401(alice, token_for):
    secret = token_for(alice)
    alice.is_active = False
    alice.save(update_fields=["is_active"])
    assert Gql(Client(), secret).post(ME).status_code == 401


def test_session_post_without_csrf_token_is_403(alice, password):
    client = Client(enforce_csrf_checks=True)
    client.login(email="alice@acme.example", password=password)
    response = Gql(client).post(ME)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"] == {"code": "FORBIDDEN"}


def test_session_post_with_csrf_token_is_served(alice, password):
    client = Client(enforce_csrf_checks=True)
    client.login(email="alice@acme.example", password=password)
    client.get("/graphql/?query={ping}")  # any response; we need the cookie below
    from django.middleware.csrf import _get_new_csrf_string

    csrf = _get_new_csrf_string()
    client.cookies["csrftoken"] = csrf
    response = Gql(client).post(ME, headers={"X-CSRFToken": csrf})
    assert response.status_code == 200
    assert response.json() == {"data": {"me": {"email": "alice@acme.example"}}}


def test_session_get_query_needs_no_csrf_token(alice, password):
    client = Client(enforce_csrf_checks=True)
    client.login(email="alice@acme.example", password=password)
    response = client.get(URL, {"query": ME})
    assert response.json() == {"data": {"me": {"email": "alice@acme.example"}}}


def test_anonymous_post_needs_no_csrf_token(db):
    response = Gql(Client(enforce_csrf_checks=True)).post("{ ping }")
    assert response.json() == {"data": {"ping": "pong"}}


@pytest.mark.parametrize(
    "body",
    [b"{not json", b'"a string"', b"42", b"\xff\xfe", b"null"],
    ids=["broken", "string", "number", "not-utf8", "null"],
)
def test_malformed_json_is_400_with_a_message(db, body):
    response = Client().post(URL, body, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["errors"][0]["message"] in {
        "Unable to parse request body as JSON.",
        "The request body must be a JSON object.",
    }


def test_batch_request_is_400(db):
    response = Client().post(
        URL, [{"query": "{ ping }"}], content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Batching is not enabled"


def test_missing_query_is_400(db):
    response = Client().post(URL, {}, content_type="application/json")
    assert response.status_code == 400


def test_form_encoded_post_is_400(db):
    response = Client().post(URL, {"query": "{ ping }"})
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Unsupported content type"


def test_get_runs_queries(db):
    response = Client().get(URL, {"query": "{ ping }"})
    assert response.json() == {"data": {"ping": "pong"}}


def test_get_refuses_mutations(alice, token_for):
    # the Mutation type may not exist yet; any mutation over GET must be refused
    response = Client().get(
        URL,
        {"query": "mutation { x }"},
        headers={"Authorization": f"Bearer {token_for(alice)}"},
    )
    assert response.status_code == 400
    assert "GET" in response.json()["errors"][0]["message"]


def test_other_methods_are_405(db):
    assert Client().put(URL, b"{}", content_type="application/json").status_code == 405


def test_graphiql_is_off_outside_debug(db, settings):
    settings.DEBUG = False
    response = Client().get(URL, headers={"Accept": "text/html"})
    assert response.status_code == 404
    assert b"graphiql" not in response.content.lower()


def test_graphiql_is_served_in_debug(db, settings):
    settings.DEBUG = True
    response = Client().get(URL, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


ACCEPTS = [
    None,
    "application/json",
    "*/*",
    "text/html",
    "text/event-stream",
    "application/json, Text/Event-Stream; q=0.5",
    'multipart/mixed;subscriptionSpec="1.0", application/json',
]


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_body_parser_answers_as_with_the_whole_request(db, monkeypatch, method):
    """The view hands strawberry's body parser the ``Accept`` header alone (not
    Django's whole ``request.headers``): for every ``Accept`` (none, JSON, HTML, the
    streaming transports'), GET and POST, the same status and body as strawberry's
    parser given the whole adapter."""
    from graphql_api import views

    def answers():
        out = []
        for accept in ACCEPTS:
            client = Client()
            headers = {} if accept is None else {"Accept": accept}
            if method == "get":
                response = client.get(URL, {"query": "{ ping }"}, headers=headers)
            else:
                response = client.post(
                    URL,
                    {"query": "{ ping }"},
                    content_type="application/json",
                    headers=headers,
                )
            out.append((accept, response.status_code, response.content))
        return out

    ours = answers()
    assert {status for _accept, status, _body in ours} == {200}
    with monkeypatch.context() as patched:
        patched.setattr(views, "_AcceptHeaderOnly", lambda adapter: adapter)
        assert answers() == ours


def test_parsing_the_body_builds_no_header_mapping(db, monkeypatch):
    """Django's ``request.headers`` (a mapping of every ``META`` key) is not built
    to serve a query: strawberry's parser reads ``Accept`` through the view."""
    from django.http.request import HttpHeaders

    built = []
    init = HttpHeaders.__init__

    def counting(self, *args, **kwargs):
        built.append(1)
        init(self, *args, **kwargs)

    monkeypatch.setattr(HttpHeaders, "__init__", counting)
    response = Client().post(
        URL, {"query": "{ ping }"}, content_type="application/json"
    )
    assert response.json() == {"data": {"ping": "pong"}}
    assert built == []
