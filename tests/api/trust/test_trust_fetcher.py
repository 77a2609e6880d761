"""The JWKS client on its own: URL policy at fetch time, Cache-Control parsing, the body limit."""
import pytest

from api.trust.fetcher import JwksClient, cache_lifetime, is_loopback_host, url_refusal


def _client(**kw) -> JwksClient:
    return JwksClient(**{"timeout_ms": 400, "deadline_ms": 1200, "max_bytes": 64 * 1024, **kw})


@pytest.mark.parametrize("url", ["http://example.com/jwks.json", "http://192.168.1.1/jwks.json",
                                 "http://[::ffff:7f00:1]/jwks.json", "gopher://127.0.0.1/", "http://127.0.0.1:0x50/"])
def test_the_client_itself_refuses_plain_http_beyond_loopback_without_connecting(url):
    outcome = _client().fetch(url)
    assert outcome.status == "error" and outcome.error.startswith("url_not_allowed"), outcome


def test_loopback_hosts():
    assert all(map(is_loopback_host, ["localhost", "127.0.0.1", "127.8.9.10", "::1", "LOCALHOST"]))
    assert not any(map(is_loopback_host, ["", None, "localhost.example", "0.0.0.0", "10.0.0.1", "::"]))
    assert url_refusal("https://zwfw.jiangsu.gov.cn/jwks.json") is None


@pytest.mark.parametrize("header, seconds", [
    (None, None), ("", None), ("public, max-age=300", 300), ("max-age=\"60\"", 60), ("no-cache", 0),
    ("max-age=300, no-store", 0), ("private", None), ("max-age=-5", None), ("max-age=1e9", None),
    ("MAX-AGE=120", 120), ("max-age=99999999999", None),
])
def test_cache_control(header, seconds):
    assert cache_lifetime(header) == seconds


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_refused(peer):
    size = len(peer.body()[0])
    assert _client(max_bytes=size).fetch(peer.jwks_url).status == "ok"
    outcome = _client(max_bytes=size - 1).fetch(peer.jwks_url)
    assert outcome.status == "error" and outcome.error.startswith("too_large")


def test_the_etag_is_sent_and_a_304_is_not_modified(peer):
    first = _client().fetch(peer.jwks_url)
    assert first.status == "ok" and first.etag and first.max_age == 300
    second = _client().fetch(peer.jwks_url, etag=first.etag)
    assert second.status == "not_modified" and second.document is None
    peer.rotate()
    assert _client().fetch(peer.jwks_url, etag=first.etag).status == "ok"


def test_a_closed_port_is_unreachable():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = _client().fetch(f"http://127.0.0.1:{port}/jwks.json")
    assert outcome.status == "error" and outcome.error.startswith("unreachable")
