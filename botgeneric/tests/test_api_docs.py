"""Issue 19: the API docs page works offline: Swagger UI comes from our static files, not a CDN."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_the_api_docs_page_loads_swagger_ui_only_from_our_static_files(client, settings):
    response = client.get("/api/v1/docs/")

    assert response.status_code == 200
    html = response.content.decode()
    asset_urls = re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)
    asset_urls += re.findall(r"""["'](https?://[^"']+)["']""", html)
    assert any("swagger-ui-bundle.js" in url for url in asset_urls)
    assert all(url.startswith(settings.STATIC_URL) for url in asset_urls if url.endswith((".js", ".css")))
    assert not [url for url in asset_urls if url.startswith(("http://", "https://", "//"))]
