import pytest


@pytest.mark.django_db
def test_graphql_ping(client):
    response = client.post(
        "/graphql/", {"query": "{ ping }"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json() == {"data": {"ping": "pong"}}
