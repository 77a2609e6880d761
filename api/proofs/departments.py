"""Departments decide e-proof requests of the types they are registered for, and revoke proofs.

A department authenticates with its issuer token (`ssb-issuer+jwt`, see api/licences/issuers).
Its queue shows each pending request with the holder's full name and identity number (a police
check needs them); the first time a department is shown a holder's identity for a request, the
holder's access log records it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.access.records import record_access
from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db
from api.identity.models import User
from api.licences.issuers import IssuerPrincipal
from api.proofs.catalogue import CATALOGUE, ProofType, validate_fields
from api.proofs.issuing import cipher, holder_identity, proof_fields, refuse, tell_revoked, write_proof
from api.proofs.models import Proof, ProofRequest, ProofRevocation
from api.unit_of_work import commit, rollback


def queue(issuer: IssuerPrincipal, *, status: str, after_id: int | None, limit: int, now: int) -> dict:
    """Pending requests of the department's types, oldest first; or the ones it issued/refused."""
    query = select(ProofRequest, User).join(User, User.id == ProofRequest.user_id)
    if status == "pending":
        query = query.where(ProofRequest.status == "pending", ProofRequest.type.in_(sorted(issuer.proof_types)))
    else:
        query = query.where(ProofRequest.status == status, ProofRequest.decided_by == issuer.issuer_id)
    if after_id:
        query = query.where(ProofRequest.id > after_id)
    rows = db.session.execute(query.order_by(ProofRequest.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    pii = cipher()
    items = [_queue_item(request, user, pii) for request, user in rows]
    if _record_disclosures(issuer, [request for request, _ in rows], now=now):
        commit()
    return {"items": items, "next_cursor": str(rows[-1][0].id) if more and rows else None}


def _queue_item(request: ProofRequest, user: User, pii) -> dict:
    name, number = holder_identity(user, pii)
    spec = CATALOGUE[request.type]
    return {"id": request.id, "type": request.type, "type_name_zh": spec.name_zh, "type_name_en": spec.name_en,
            "purpose": request.purpose, "status": request.status, "created_at": request.created_at,
            "decided_at": request.decided_at, "refusal_reason": request.refusal_reason,
            "holder": {"name": name, "id_type": user.id_type, "id_number": number}}


def _record_disclosures(issuer: IssuerPrincipal, requests: list[ProofRequest], *, now: int) -> bool:
    """One access record per (request, department), the first time it sees the holder's identity."""
    recorded = False
    for request in requests:
        if issuer.issuer_id in (request.disclosed_to or []):
            continue
        request.disclosed_to = [*(request.disclosed_to or []), issuer.issuer_id]
        record_access(user_id=request.user_id, kind="proof_request_view", now=now,
                      accessor={"type": "department", "name": issuer.name}, purpose=request.purpose,
                      fields=["name", "id_number"], subject_ref=str(request.id))
        recorded = True
    return recorded


def _decidable(issuer: IssuerPrincipal, request_id: int) -> tuple[ProofRequest, ProofType]:
    request = db.session.get(ProofRequest, request_id) if 0 < request_id < 2**63 else None
    if request is None:
        raise AppError("PROOF_REQUEST_NOT_FOUND")
    if not issuer.may_decide_proof(request.type):
        raise AppError("PROOF_TYPE_NOT_ALLOWED")
    if request.status != "pending":
        raise AppError("PROOF_REQUEST_NOT_PENDING")
    return request, CATALOGUE[request.type]


def issue(issuer: IssuerPrincipal, request_id: int, *, fields: dict, valid_days: int | None, now: int) -> dict:
    """Issue the proof a resident asked for: fields checked against the type, validity in days
    (the type's default when not given, at most its maximum)."""
    request, spec = _decidable(issuer, request_id)
    errors = validate_fields(spec, fields)
    if errors:
        raise AppError("INVALID_PROOF_FIELDS", errors={"fields": errors})
    days = spec.default_valid_days if valid_days is None else valid_days
    if not 1 <= days <= spec.max_valid_days:
        raise AppError("VALIDATION_ERROR", errors={"valid_days": [f"Must be between 1 and {spec.max_valid_days}."]})
    _record_disclosures(issuer, [request], now=now)
    proof = write_proof(request, spec=spec, fields=fields, valid_days=days, issuer_id=issuer.issuer_id,
                        issuer_name=issuer.name, now=now)
    commit()
    return issued_view(proof)


def refuse_request(issuer: IssuerPrincipal, request_id: int, *, reason: str, now: int) -> dict:
    """Refuse with a reason the resident reads in their inbox."""
    request, _ = _decidable(issuer, request_id)
    _record_disclosures(issuer, [request], now=now)
    refuse(request, reason=" ".join(reason.split()), issuer_id=issuer.issuer_id, now=now)
    commit()
    user = db.session.get(User, request.user_id)
    return _queue_item(request, user, cipher())


def revoke(issuer: IssuerPrincipal, proof_id: int, *, now: int) -> None:
    """Revoke a proof the department issued (or, for one issued at once from registry data, a
    department registered for its type). Online checks answer `revoked` from the next request;
    the number joins the revocation feed. Idempotent."""
    proof = db.session.get(Proof, proof_id) if 0 < proof_id < 2**63 else None
    if proof is None:
        raise AppError("PROOF_NOT_FOUND")
    owner = proof.issuer_id == issuer.issuer_id or (proof.issuer_id is None and issuer.may_decide_proof(proof.type))
    if not owner:
        raise AppError("PROOF_OWNED_BY_OTHER_ISSUER")
    if proof.status == "revoked":
        return
    proof.status = "revoked"
    proof.revoked_at = from_timestamp(now)
    db.session.add(ProofRevocation(proof_id=proof.id, number=proof.number, valid_until=proof.valid_until,
                                   created_at=from_timestamp(now)))
    tell_revoked(proof, now=now)
    try:
        commit()
    except IntegrityError:      # a concurrent revocation of the same proof committed first
        rollback()


def issued_view(proof: Proof) -> dict:
    spec = CATALOGUE[proof.type]
    return {"id": proof.id, "number": proof.number, "type": proof.type, "type_name_zh": spec.name_zh,
            "type_name_en": spec.name_en, "request_id": proof.request_id, "status": proof.status,
            "fields": proof_fields(proof), "issued_at": proof.issued_at, "valid_from": proof.valid_from,
            "valid_until": proof.valid_until}
