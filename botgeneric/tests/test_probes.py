"""Issue 16 item 3: health and readiness probes reach the container over plain HTTP (the orchestrator
does not go through the TLS proxy), so with HTTPS_ONLY they answer instead of redirecting."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("probe", ["/healthz", "/readyz"])
def test_probes_answer_over_plain_http_when_https_is_enforced(client, settings, probe):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get(probe).status_code == 200
    assert client.get("/api/v1/billing/plans").status_code == 301  # everything else still moves to HTTPS
