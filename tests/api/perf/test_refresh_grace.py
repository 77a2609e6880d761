"""Refresh rotation with a retry grace window (issue 13 item 4): parallel refreshes with one token
all get the same new pair and sign nobody out; reuse after the window still revokes the family."""
import threading

from sqlalchemy import select

from api.extensions import db
from api.identity.models import RefreshToken
from api.identity.rotation import seal, token_hash, unseal
from api.identity.tokens import TokenPair
from tests.conftest import bearer


def _refresh(client, token):
    return client.post("/v1/auth/refresh", json={"refresh_token": token})


def test_twenty_concurrent_refreshes_get_one_pair_and_keep_the_session(app, login):
    tokens = login()
    answers: list = []
    barrier = threading.Barrier(20)

    def attempt():
        c = app.test_client()
        barrier.wait()
        r = _refresh(c, tokens["refresh_token"])
        answers.append((r.status_code, r.json))

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(answers) == 20
    assert {status for status, _ in answers} == {200}, answers
    pairs = {(body["access_token"], body["refresh_token"]) for _, body in answers}
    assert len(pairs) == 1, "every retry gets the same successor pair"
    access, refresh = pairs.pop()
    client = app.test_client()
    assert client.get("/v1/me", headers=bearer(access)).status_code == 200
    assert client.get("/v1/me", headers=bearer(tokens)).status_code == 200, "nobody was signed out"
    r = _refresh(client, refresh)
    assert r.status_code == 200, r.json
    assert client.get("/v1/me", headers=bearer(r.json)).status_code == 200


def test_a_retry_within_the_window_gets_the_same_pair(client, login, clock, app):
    tokens = login()
    first = _refresh(client, tokens["refresh_token"]).json
    clock.advance(app.extensions["ssb.config"].REFRESH_REUSE_GRACE - 1)
    again = _refresh(client, tokens["refresh_token"])
    assert again.status_code == 200 and again.json == first


def test_a_retry_after_its_successor_was_rotated_answers_409_and_revokes_nothing(client, login):
    tokens = login()
    second = _refresh(client, tokens["refresh_token"]).json
    third = _refresh(client, second["refresh_token"]).json
    r = _refresh(client, tokens["refresh_token"])
    assert r.status_code == 409 and r.json["error"] == "REFRESH_IN_PROGRESS"
    assert client.get("/v1/me", headers=bearer(third)).status_code == 200
    assert _refresh(client, third["refresh_token"]).status_code == 200


def test_an_expired_token_repeated_within_the_window_is_still_refused(client, login, clock, app):
    cfg = app.extensions["ssb.config"]
    tokens = login()
    clock.advance(cfg.REFRESH_TOKEN_IDLE_TTL + 1)
    for _ in range(2):
        r = _refresh(client, tokens["refresh_token"])
        assert r.status_code == 401 and r.json["error"] == "REFRESH_TOKEN_INVALID"


def test_a_replay_after_the_window_revokes_the_family(client, login, clock, app):
    tokens = login()
    second = _refresh(client, tokens["refresh_token"]).json
    clock.advance(app.extensions["ssb.config"].REFRESH_REUSE_GRACE + 1)
    r = _refresh(client, tokens["refresh_token"])
    assert r.status_code == 401 and r.json["error"] == "REFRESH_TOKEN_REUSED"
    assert client.get("/v1/me", headers=bearer(second)).status_code == 401
    assert _refresh(client, second["refresh_token"]).status_code == 401


def test_the_stored_successor_opens_only_with_the_rotated_token(client, login, app):
    tokens = login()
    second = _refresh(client, tokens["refresh_token"]).json
    with app.app_context():
        sealed = db.session.scalar(select(RefreshToken.successor_sealed).where(
            RefreshToken.token_hash == token_hash(tokens["refresh_token"])))
    assert sealed and second["refresh_token"].encode() not in sealed and second["access_token"].encode() not in sealed
    assert unseal(tokens["refresh_token"], sealed).refresh_token == second["refresh_token"]
    assert unseal(second["refresh_token"], sealed) is None
    assert unseal("rt_" + "x" * 43, seal("rt_" + "y" * 43, TokenPair("a", "b", 1))) is None
