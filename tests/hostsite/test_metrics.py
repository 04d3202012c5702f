"""/metrics: off without METRICS_TOKEN, bearer-only, counts issued and refused URLs."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests.conftest import CANARY_SECRET

TOKEN = "metrics-token-0123456789abcdef0123456789"


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN


def test_metrics_do_not_exist_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}").status_code == 404


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"],
)
def test_metrics_refuse_anything_but_the_bearer_token(client, metrics_on, authorization):
    headers = {} if authorization is None else {"HTTP_AUTHORIZATION": authorization}
    response = client.get("/metrics", **headers)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert response.content == b""


@pytest.mark.django_db
def test_metrics_count_issued_and_refused_urls(client, metrics_on, alice, bob, embed_factory):
    embed_factory(slug="sales", teams=["Sales"])
    issued_before = sample("sigma_embed_tokens_issued_total", source="page")
    refused_before = sample("sigma_embed_tokens_refused_total", code="no_team", source="page")

    client.force_login(alice)
    assert client.get("/embeds/sales/").status_code == 200
    client.force_login(bob)
    assert client.get("/embeds/sales/").status_code == 403

    assert sample("sigma_embed_tokens_issued_total", source="page") == issued_before + 1
    assert (
        sample("sigma_embed_tokens_refused_total", code="no_team", source="page")
        == refused_before + 1
    )
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert 'sigma_embed_tokens_issued_total{source="page"}' in body
    assert 'sigma_embed_tokens_refused_total{code="no_team",source="page"}' in body
    assert CANARY_SECRET not in body and "alice" not in body
