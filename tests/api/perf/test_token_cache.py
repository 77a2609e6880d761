"""The per-process cache of verified access tokens never outlives expiry, revocation or the key ring."""
from api.identity.auth import VerifiedTokenCache
from tests.conftest import bearer


def test_a_cached_token_is_still_refused_after_logout(client, login):
    tokens = login()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200   # now cached
    assert client.post("/v1/auth/logout", headers=bearer(tokens)).status_code == 204
    r = client.get("/v1/me", headers=bearer(tokens))
    assert r.status_code == 401 and r.json["error"] == "INVALID_TOKEN"


def test_a_cached_token_is_refused_once_expired(client, login, clock, app):
    tokens = login()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200
    cfg = app.extensions["ssb.config"]
    clock.advance(cfg.ACCESS_TOKEN_TTL + cfg.CLOCK_SKEW)
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 401


def test_a_token_differing_from_a_cached_one_is_verified_afresh(client, login):
    tokens = login()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200
    head, claims, sig = tokens["access_token"].split(".")
    flipped = sig[:-2] + ("A" if sig[-2] != "A" else "B") + sig[-1]
    assert client.get("/v1/me", headers=bearer(f"{head}.{claims}.{flipped}")).status_code == 401
    assert client.get("/v1/me", headers=bearer(tokens["access_token"] + " ")).status_code == 200


def test_a_reloaded_key_ring_verifies_cached_tokens_again(app, client, login):
    tokens = login()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200
    cache: VerifiedTokenCache = app.extensions["ssb.token_cache"]
    ring_before = cache._entries[tokens["access_token"]][0]
    app.extensions["ssb.keyring"].reload()
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200
    assert cache._entries[tokens["access_token"]][0] is not ring_before


def test_the_cache_is_bounded(app, client, login):
    cache = VerifiedTokenCache(max_entries=4)
    app.extensions["ssb.token_cache"], saved = cache, app.extensions.get("ssb.token_cache")
    try:
        for i in range(10):
            assert client.get("/v1/me", headers=bearer(login(device_id=f"d{i}"))).status_code == 200
        assert len(cache._entries) <= 4
    finally:
        app.extensions.pop("ssb.token_cache")
        if saved is not None:
            app.extensions["ssb.token_cache"] = saved
