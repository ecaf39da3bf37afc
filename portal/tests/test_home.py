import pytest


@pytest.mark.django_db
def test_home_page_renders_from_wagtail(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>How can we help?</h1>" in html
    assert 'action="/kb/search/"' in html
    assert "css/site.css" in html
    assert type(response.context["page"]).__name__ == "HomePage"


@pytest.mark.django_db
def test_unknown_path_is_a_site_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()


@pytest.mark.django_db
def test_ping_is_plain_text(client):
    response = client.get("/ping")
    assert response.status_code == 200
    assert response.content == b"pong"
