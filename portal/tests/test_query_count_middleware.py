import pytest
from django.db import connection
from django.http import HttpResponse
from django.test import RequestFactory

from portal.middleware import QUERY_COUNT_HEADER, QueryCountMiddleware


def _view_running(n):
    def view(request):
        with connection.cursor() as cursor:
            for _ in range(n):
                cursor.execute("SELECT 1")
        return HttpResponse(b"ok")

    return view


@pytest.mark.django_db
@pytest.mark.parametrize("n", [0, 1, 3])
def test_header_counts_the_statements_of_the_request(n):
    middleware = QueryCountMiddleware(_view_running(n))

    response = middleware(RequestFactory().get("/"))

    assert response[QUERY_COUNT_HEADER] == str(n)


@pytest.mark.django_db
def test_counting_stops_when_the_request_ends():
    middleware = QueryCountMiddleware(_view_running(2))
    middleware(RequestFactory().get("/"))

    assert connection.execute_wrappers == []


@pytest.mark.django_db
def test_middleware_is_off_by_default(client):
    response = client.get("/ping")

    assert response.status_code == 200
    assert QUERY_COUNT_HEADER not in response


@pytest.mark.django_db
def test_counting_stops_when_the_view_raises_and_keeps_other_wrappers():
    def other(execute, sql, params, many, context):
        return execute(sql, params, many, context)

    def view(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        raise RuntimeError("boom")

    with connection.execute_wrapper(other):
        with pytest.raises(RuntimeError):
            QueryCountMiddleware(view)(RequestFactory().get("/"))
        assert connection.execute_wrappers == [other]
    assert connection.execute_wrappers == []
