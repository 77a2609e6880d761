"""Anyone checks a proof's QR (no account of ours needed), and offline verifiers read revocations.

The payload's signature, `typ` (`ssb-proof+jwt` only: a licence presentation, a 随申码 or an
access token signed by the same keys is refused) and issuer are checked against the server's
whole key ring, then the proof's current state answers: `valid`, `expired`, `revoked` (at once
after a department revokes) or `not_yet_valid`. Every check that names a proof enters its
holder's access log; checks are rate-limited per client IP.
"""
from __future__ import annotations

from sqlalchemy import select

from api.access.records import record_access
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config, get_keyring
from api.identity.models import User
from api.pii import mask_phone
from api.proofs.catalogue import CATALOGUE
from api.proofs.issuing import field_views, proof_fields, proof_status
from api.proofs.models import Proof, ProofRevocation
from api.ratelimits import enforce
from api.unit_of_work import commit
from qr.proofs import ProofError, decode_proof

_REFUSALS = {"PROOF_WRONG_TYPE": "PROOF_WRONG_TYPE", "PROOF_BAD_SIGNATURE": "PROOF_BAD_SIGNATURE",
             "PROOF_UNKNOWN_KEY": "PROOF_BAD_SIGNATURE", "PROOF_WRONG_ISSUER": "PROOF_BAD_SIGNATURE"}
PUBLIC_CHECK = {"type": "public", "name": "public check", "name_zh": "公开核验"}


def _accessor(verifier) -> dict:
    """Who checked: the signed-in verifier (masked phone) or an anonymous public check."""
    if verifier is None:
        return dict(PUBLIC_CHECK)
    user = db.session.get(User, verifier.user_id)
    return {"type": "signed_in_verifier", "name": mask_phone(user.phone) if user else "****"}


def verify(payload: str, *, client: str, verifier, now: int) -> dict:
    """Check a proof's payload; `client` is the caller's IP (the rate-limit key), `verifier` the
    signed-in principal if the caller sent a bearer token, else None."""
    cfg = get_config()
    enforce(f"{cfg.PROOF_VERIFICATIONS_PER_MINUTE}/minute", "proof-verify", client)
    try:
        claims = decode_proof(payload, get_keyring(), issuer=cfg.TOKEN_ISSUER)
    except ProofError as exc:
        raise AppError(_REFUSALS.get(exc.code, "MALFORMED_PROOF")) from None
    proof = db.session.scalar(select(Proof).where(Proof.number == claims["jti"]))
    if proof is None or proof.type != claims["pt"]:
        raise AppError("MALFORMED_PROOF")    # signed by us but naming no proof: never issued as such
    fields = proof_fields(proof)
    record_access(user_id=proof.user_id, kind="proof_check", accessor=_accessor(verifier), now=now,
                  fields=sorted(fields), subject_ref=str(proof.id))
    commit()
    status = proof_status(proof, now)
    spec = CATALOGUE[proof.type]
    return {"valid": status == "valid", "status": status, "number": proof.number, "type": proof.type,
            "type_name_zh": spec.name_zh, "type_name_en": spec.name_en,
            "holder": {"name": proof.holder_name_masked, "id_type": proof.holder_id_type,
                       "id_number": proof.holder_id_masked},
            "fields": field_views(spec, fields), "issuer": {"name": proof.issuer_name},
            "issued_at": proof.issued_at, "valid_from": proof.valid_from, "valid_until": proof.valid_until,
            "revoked_at": proof.revoked_at, "checked_at": from_timestamp(now)}


def list_revocations(*, after_id: int | None, limit: int, client: str) -> dict:
    """Revoked proof numbers, oldest first, from a cursor: what offline verifiers refuse."""
    enforce("120/minute", "proof-revocations", client)
    query = select(ProofRevocation)
    if after_id:
        query = query.where(ProofRevocation.id > after_id)
    rows = list(db.session.scalars(query.order_by(ProofRevocation.id).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": [{"id": r.id, "number": r.number, "revoked_at": r.created_at, "valid_until": r.valid_until}
                      for r in rows],
            "next_cursor": str(rows[-1].id) if rows else (str(after_id) if after_id else None), "more": more}
