"""/metrics is for operators: only with the METRICS_TOKEN bearer (none configured: nobody)."""
import pytest


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setattr(app.extensions["ssb.config"], "METRICS_TOKEN", "m" * 40)
    return "m" * 40


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic bW1t"},
                                     {"Authorization": "Bearer " + "m" * 39}])
def test_metrics_refuse_anyone_without_the_token(client, metrics_token, headers):
    r = client.get("/metrics", headers=headers)
    assert r.status_code == 401 and r.json["error"] == "UNAUTHENTICATED"
    assert b"ssb_http_requests_total" not in r.data


def test_metrics_with_no_token_configured_are_served_to_nobody(client, app):
    assert not app.extensions["ssb.config"].METRICS_TOKEN
    for headers in ({}, {"Authorization": "Bearer "}, {"Authorization": "Bearer None"}):
        assert client.get("/metrics", headers=headers).status_code == 401


def test_operators_scrape_with_the_token(client, metrics_token):
    client.get("/v1/me")
    r = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
    assert r.status_code == 200
    assert 'ssb_http_requests_total{endpoint="/v1/me",method="GET",status="401"}' in r.get_data(as_text=True)


def test_the_metrics_token_is_documented(client):
    op = client.get("/openapi.json").json["paths"]["/metrics"]["get"]
    assert op["security"] == [{"metricsAuth": []}]
