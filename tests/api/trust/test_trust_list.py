"""GET /.well-known/trust-list.json: signed by our key, lists every peer's keys and ours, and lets
an offline scanner (examples/offline_trust_list.py) verify any trusted platform's code."""
import json
import subprocess
import sys

import jwt
import pytest

from api.config import PROJECT_ROOT
from qr.codes import CodeError
from qr.federation import verify_trust_list, verify_with_trust_list
from qr.tokens import TokenError
from tests.api.trust.conftest import PEERS
from tests.fakes.peer_platform import FakeKey, FakePeerPlatform

EXAMPLE = PROJECT_ROOT / "examples" / "offline_trust_list.py"


def _download(client):
    r = client.get("/.well-known/trust-list.json")
    assert r.status_code == 200
    return r.json["payload"], client.get("/.well-known/jwks.json").json


def test_the_list_is_a_jws_of_our_key_any_jwt_library_verifies(client, trusted_peer, peer):
    r = client.get("/.well-known/trust-list.json")
    assert "max-age=300" in r.headers["Cache-Control"]
    jwks = client.get("/.well-known/jwks.json").json
    header = jwt.get_unverified_header(r.json["payload"])
    assert header["typ"] == "ssb-trust-list+jwt" and header["alg"] == "EdDSA"
    key = jwt.PyJWKSet.from_dict(jwks)[header["kid"]].key
    claims = jwt.decode(r.json["payload"], key, algorithms=["EdDSA"], issuer="https://ssb.sh.gov.cn")
    assert claims["exp"] - claims["iat"] == 24 * 3600 == r.json["expires_at"] - claims["iat"]
    assert claims["self"]["issuer"] == "https://ssb.sh.gov.cn" and claims["self"]["region"] == "310000"
    assert claims["self"]["keys"] == jwks["keys"] and claims["self"]["typ"] == ["ssb-code+jwt"]
    [entry] = claims["peers"]
    assert {k: entry[k] for k in ("issuer", "name", "region", "typ", "scenes")} == {
        "issuer": peer.issuer, "name": "苏服办", "region": "320000", "typ": [peer.typ],
        "scenes": ["general", "transport"]}
    assert [k["kid"] for k in entry["keys"]] == [peer.signing_key.kid]
    assert entry["keys_valid_until"] > claims["iat"]


def test_peers_without_usable_keys_are_listed_with_none(app, client, peer, register, monkeypatch):
    assert register(peer).status_code == 201                       # never fetched
    payload, jwks = _download(client)
    listed = verify_trust_list(payload, jwks, now=int(app.extensions["ssb.clock"]()))
    assert listed["peers"][0]["keys"] == [] and listed["peers"][0]["keys_valid_until"] is None


def test_a_removed_peer_leaves_the_list(client, operator, trusted_peer):
    client.delete(f"{PEERS}/{trusted_peer['id']}", headers=operator)
    payload, jwks = _download(client)
    assert jwt.decode(payload, options={"verify_signature": False})["peers"] == []


def test_offline_verification_of_our_code_and_a_peers(client, trusted_peer, peer, get_code, resident, now):
    payload, jwks = _download(client)
    listed = verify_trust_list(payload, jwks, now=now())
    claims, platform = verify_with_trust_list(peer.issue_code(now=now(), scene="transport"), listed, now=now())
    assert platform["name"] == "苏服办" and claims["scn"] == "transport"
    claims, platform = verify_with_trust_list(get_code(resident), listed, now=now())
    assert platform["issuer"] == "https://ssb.sh.gov.cn"


def test_offline_verification_refuses_what_the_server_refuses(client, trusted_peer, peer, now):
    listed = verify_trust_list(*_download(client), now=now())

    def refused(payload, at=None):
        with pytest.raises(CodeError) as exc:
            verify_with_trust_list(payload, listed, now=at or now())
        return exc.value.code

    assert refused(peer.issue_code(now=now(), scene="veteran")) == "CODE_SCENE_NOT_TRUSTED"
    assert refused(peer.issue_code(now=now(), iss="https://ssb.sh.gov.cn", typ="ssb-code+jwt")) == "CODE_UNKNOWN_KEY"
    attacker = FakeKey.generate()
    peer.keys.append(attacker)
    assert refused(peer.issue_code(now=now(), kid=attacker.kid, header={"jwk": attacker.jwk()})) \
        == "CODE_HEADER_NOT_ALLOWED"
    with FakePeerPlatform(issuer="https://evil.example") as evil:
        assert refused(evil.issue_code(now=now())) == "CODE_WRONG_ISSUER"
    until = listed["peers"][0]["keys_valid_until"]
    assert refused(peer.issue_code(now=until + 1, scene="general"), at=until + 2) == "CODE_ISSUER_KEYS_EXPIRED"


def test_a_list_not_signed_by_the_pinned_key_or_expired_is_refused(client, trusted_peer, now):
    payload, jwks = _download(client)
    with pytest.raises(TokenError) as exc:
        verify_trust_list(payload, {"keys": [FakeKey.generate().jwk()]}, now=now())
    assert exc.value.code == "UNKNOWN_KEY"
    with pytest.raises(TokenError) as exc:
        verify_trust_list(payload, jwks, now=now() + 24 * 3600 + 61)
    assert exc.value.code == "EXPIRED"


def _run_example(tmp_path, client, payload_to_check, *extra):
    trust_list = client.get("/.well-known/trust-list.json").json
    (tmp_path / "jwks.json").write_text(json.dumps(client.get("/.well-known/jwks.json").json))
    (tmp_path / "trust-list.json").write_text(json.dumps(trust_list))
    result = subprocess.run([sys.executable, str(EXAMPLE), "--jwks", str(tmp_path / "jwks.json"),
                             "--trust-list", str(tmp_path / "trust-list.json"), *extra, payload_to_check],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    return result.returncode, json.loads(result.stdout)


def test_the_example_scanner_accepts_a_trusted_peers_code(tmp_path, client, trusted_peer, peer, now):
    status, verdict = _run_example(tmp_path, client, peer.issue_code(now=now(), scene="general"))
    assert status == 0 and verdict["valid"] is True
    assert verdict["issuer"]["name"] == "苏服办" and verdict["scene"] == "general"


def test_the_example_scanner_accepts_our_code_and_refuses_others(tmp_path, client, trusted_peer, resident,
                                                                get_code, now):
    status, verdict = _run_example(tmp_path, client, get_code(resident))
    assert status == 0 and verdict["issuer"]["issuer"] == "https://ssb.sh.gov.cn"
    with FakePeerPlatform(issuer="https://evil.example") as evil:
        status, verdict = _run_example(tmp_path, client, evil.issue_code(now=now()))
    assert status == 1 and verdict == {"valid": False, "error": "CODE_WRONG_ISSUER"}
    status, verdict = _run_example(tmp_path, client, get_code(resident), "--now", str(now() + 2 * 24 * 3600))
    assert status == 2 and verdict["error"] == "TRUST_LIST_EXPIRED"
