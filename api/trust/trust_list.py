"""The signed trust list (/.well-known/trust-list.json): every peer's current keys and ours.

Built from the database on each request (a few dozen peers at most; the response is cacheable
for 5 minutes) and signed with our newest key. A peer whose keys passed TRUST_KEYS_MAX_AGE is
listed with no keys, so offline scanners stop accepting its codes exactly when we do.
"""
from __future__ import annotations

from sqlalchemy import select

from api.extensions import db, get_config, get_keyring
from api.trust.keystate import keys_valid_until, usable_keys
from api.trust.models import TrustPeer
from qr.codes import CODE_TYP, SCENES
from qr.federation import platform_entry, sign_trust_list


def _peer_entry(peer: TrustPeer, *, now: int, max_age: int) -> dict:
    keys = usable_keys(peer, now=now, max_age=max_age)
    return platform_entry(issuer=peer.issuer, name=peer.name, region=peer.region, types=peer.token_types,
                          scenes=peer.scenes, keys=keys,
                          keys_valid_until=keys_valid_until(peer, max_age) if keys else None)


def current_trust_list(*, now: int) -> dict:
    cfg = get_config()
    ring = get_keyring()
    own = platform_entry(issuer=cfg.TOKEN_ISSUER, name=cfg.TRUST_SELF_NAME, region=cfg.TRUST_SELF_REGION,
                         types=[CODE_TYP], scenes=SCENES, keys=ring.jwks(now)["keys"], keys_valid_until=None)
    peers = [_peer_entry(p, now=now, max_age=cfg.TRUST_KEYS_MAX_AGE)
             for p in db.session.scalars(select(TrustPeer).order_by(TrustPeer.id))]
    payload = sign_trust_list(ring=ring, issuer=cfg.TOKEN_ISSUER, own=own, peers=peers, now=now,
                              ttl=cfg.TRUST_LIST_TTL)
    return {"payload": payload, "expires_at": now + cfg.TRUST_LIST_TTL}
