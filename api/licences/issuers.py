"""Issuing departments: registration by operators, client-credentials tokens of their own kind.

An issuer token is a JWS with `typ` `ssb-issuer+jwt` and audience `ssb-issuer`: resident
endpoints refuse it (they pin `at+jwt`), issuer endpoints accept nothing else.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select

import qr
from api import hooks
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_keyring
from api.licences.catalogue import CATALOGUE
from api.licences.models import Issuer
from api.ratelimits import enforce
from api.unit_of_work import commit

ISSUER_TOKEN_TYPE = "ssb-issuer+jwt"
ISSUER_AUDIENCE = "ssb-issuer"
ISSUER_TOKEN_TTL = 10 * 60

@dataclass(frozen=True)
class IssuerPrincipal:
    """A department calling with its own token (never a resident)."""

    issuer_id: int
    name: str
    licence_types: frozenset
    jti: str = ""
    roles: frozenset = frozenset()
    acting_for: dict | None = None
    proof_types: frozenset = frozenset()

    def may_issue(self, licence_type: str) -> bool:
        return licence_type in self.licence_types

    def may_decide_proof(self, proof_type: str) -> bool:
        return proof_type in self.proof_types


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _known_proof_types() -> frozenset:
    """The e-proof catalogue's codes, asked of api.proofs (which builds on this module)."""
    try:
        return hooks.ask(hooks.PROOF_TYPES)
    except LookupError:         # an app without e-proofs: no proof type is known
        return frozenset()


def create_issuer(*, name: str, licence_types: list[str], created_by: int, now: int,
                  proof_types: list[str] = ()) -> dict:
    unknown = sorted(set(licence_types) - set(CATALOGUE))
    if unknown:
        raise AppError("UNKNOWN_LICENCE_TYPE", errors={"licence_types": [f"unknown: {', '.join(unknown)}"]})
    unknown = sorted(set(proof_types) - _known_proof_types())
    if unknown:
        raise AppError("UNKNOWN_PROOF_TYPE", errors={"proof_types": [f"unknown: {', '.join(unknown)}"]})
    if not licence_types and not proof_types:
        raise AppError("VALIDATION_ERROR", errors={"licence_types": ["Give licence_types, proof_types or both."]})
    secret = secrets.token_urlsafe(32)
    issuer = Issuer(client_id="iss_" + secrets.token_hex(12), secret_hash=_hash_secret(secret), name=name.strip(),
                    licence_types=sorted(set(licence_types)), proof_types=sorted(set(proof_types)),
                    created_by=created_by, created_at=from_timestamp(now))
    db.session.add(issuer)
    commit()
    return {"id": issuer.id, "name": issuer.name, "licence_types": issuer.licence_types,
            "proof_types": issuer.proof_types, "client_id": issuer.client_id, "client_secret": secret,
            "created_at": issuer.created_at}


def issuer_named(name: str, *, created_by: int) -> IssuerPrincipal | None:
    """The department of this name an operator registered, acting as itself (scripts that are
    re-run, like the demo data, push licences through it without its secret)."""
    issuer = db.session.scalar(select(Issuer).where(Issuer.name == name, Issuer.created_by == created_by)
                               .order_by(Issuer.id).limit(1))
    if issuer is None or issuer.status != "active":
        return None
    return IssuerPrincipal(issuer.id, issuer.name, frozenset(issuer.licence_types))


def issue_token(*, client_id: str, client_secret: str, now: int) -> dict:
    enforce(f"{get_config().ISSUER_TOKENS_PER_MINUTE}/minute", "issuer-token", client_id[:64])
    issuer = db.session.scalar(select(Issuer).where(Issuer.client_id == client_id))
    # Compare against a dummy hash for unknown ids so timing does not reveal which ids exist.
    expected = issuer.secret_hash if issuer is not None else "0" * 64
    if not hmac.compare_digest(expected, _hash_secret(client_secret)) or issuer is None or issuer.status != "active":
        raise AppError("ISSUER_CREDENTIALS_INVALID")
    cfg = get_config()
    claims = {"iss": cfg.TOKEN_ISSUER, "aud": ISSUER_AUDIENCE, "sub": f"issuer:{issuer.id}",
              "jti": secrets.token_urlsafe(12), "iat": now, "exp": now + ISSUER_TOKEN_TTL}
    token = qr.sign(claims, typ=ISSUER_TOKEN_TYPE, ring=get_keyring())
    return {"access_token": token, "token_type": "Bearer", "expires_in": ISSUER_TOKEN_TTL}


def decode_issuer_token(token: str, *, now: int) -> IssuerPrincipal:
    """Signature, typ, audience, issuer, expiry, and the department still active."""
    cfg = get_config()
    try:
        claims = qr.verify(token, typ=ISSUER_TOKEN_TYPE, ring=get_keyring(), now=now, leeway=cfg.CLOCK_SKEW,
                           audience=ISSUER_AUDIENCE, issuer=cfg.TOKEN_ISSUER,
                           required=("iss", "aud", "sub", "exp", "iat", "jti"))
        kind, _, raw_id = str(claims["sub"]).partition(":")
        if kind != "issuer":
            raise ValueError("not an issuer subject")
        issuer_id = int(raw_id)
    except (qr.TokenError, ValueError, TypeError):
        raise AppError("INVALID_TOKEN") from None
    issuer = db.session.get(Issuer, issuer_id)
    if issuer is None or issuer.status != "active":
        raise AppError("INVALID_TOKEN")
    return IssuerPrincipal(issuer.id, issuer.name, frozenset(issuer.licence_types), str(claims["jti"]),
                           proof_types=frozenset(issuer.proof_types or ()))
