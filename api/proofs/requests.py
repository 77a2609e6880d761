"""A resident asks for a proof, lists their requests, withdraws a pending one.

An instant type is issued in the same transaction when the population registry has what it
needs ("零材料"); otherwise, and for every other type, the request waits in the queue of the
departments registered for its type. One pending request per type and resident; a per-resident
rate limit caps the rest.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from api.db import from_timestamp
from api.errors import AppError
from api.extensions import db, get_config
from api.identity.models import User
from api.identity.population import PopulationRegistry, RegistryPerson, RegistryUnavailable
from api.localtime import local_today
from api.proofs.catalogue import CATALOGUE, ProofType
from api.proofs.issuing import INSTANT_ISSUER_NAME, cipher, holder_identity, write_proof
from api.proofs.models import Proof, ProofRequest
from api.ratelimits import enforce
from api.unit_of_work import commit, rollback


def _verified_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or user.status != "active":
        raise AppError("ACCOUNT_DISABLED")
    if not user.is_verified or not user.id_number_enc:
        raise AppError("REAL_NAME_REQUIRED")
    return user


def registry_fields(spec: ProofType, person: RegistryPerson | None, today: date) -> dict | None:
    """The fields of an instant type from the registry's record, or None when it cannot say."""
    if person is None or not person.district:
        return None
    if spec.code == "residence":
        return {"district": person.district, "household": "local" if person.hukou else "non_local",
                "as_of": today.isoformat()}
    if spec.code == "household_registration" and person.hukou and person.birth_date:
        return {"district": person.district, "birth_date": person.birth_date.isoformat(),
                "as_of": today.isoformat()}
    return None


def _lookup(user: User, registry: PopulationRegistry) -> RegistryPerson | None:
    _, number = holder_identity(user, cipher())
    try:
        return registry.lookup(id_type=user.id_type, id_number=number, blind_index=user.id_number_bidx)
    except RegistryUnavailable:
        raise AppError("UPSTREAM_UNAVAILABLE") from None


def create_request(user_id: int, *, proof_type: str, purpose: str, registry: PopulationRegistry,
                   now: int) -> dict:
    """Ask for a proof: 201 `issued` at once where the registry's data allow, else `pending`."""
    spec = CATALOGUE[proof_type]
    user = _verified_user(user_id)
    enforce(f"{get_config().PROOF_REQUESTS_PER_HOUR}/hour", "proof-request", str(user_id))
    request = ProofRequest(user_id=user_id, type=proof_type, purpose=purpose.strip(), status="pending",
                           pending_key=f"{user_id}:{proof_type}", disclosed_to=[],
                           created_at=from_timestamp(now))
    db.session.add(request)
    try:
        db.session.flush()
    except IntegrityError:
        rollback()
        raise AppError("PROOF_REQUEST_DUPLICATE") from None
    if spec.instant:
        fields = registry_fields(spec, _lookup(user, registry), local_today(now))
        if fields is not None:
            write_proof(request, spec=spec, fields=fields, valid_days=spec.default_valid_days, issuer_id=None,
                        issuer_name=INSTANT_ISSUER_NAME, now=now)
    try:
        commit()
    except IntegrityError:      # a concurrent twin won the pending slot between flush and commit
        rollback()
        raise AppError("PROOF_REQUEST_DUPLICATE") from None
    return request_view(request)


def _own_request(user_id: int, request_id: int) -> ProofRequest:
    request = db.session.get(ProofRequest, request_id) if 0 < request_id < 2**63 else None
    if request is None or request.user_id != user_id:
        raise AppError("PROOF_REQUEST_NOT_FOUND")
    return request


def withdraw_request(user_id: int, request_id: int, *, now: int) -> dict:
    """Withdraw a request still pending; a decided one is 409."""
    request = _own_request(user_id, request_id)
    if request.status != "pending":
        raise AppError("PROOF_REQUEST_NOT_PENDING")
    request.status = "withdrawn"
    request.pending_key = None
    request.decided_at = from_timestamp(now)
    commit()
    return request_view(request)


def list_requests(user_id: int, *, before_id: int | None, limit: int) -> dict:
    """Newest first, keyset by id."""
    query = select(ProofRequest).where(ProofRequest.user_id == user_id)
    if before_id:
        query = query.where(ProofRequest.id < before_id)
    rows = list(db.session.scalars(query.order_by(ProofRequest.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    issued = dict(db.session.execute(select(Proof.request_id, Proof.id).where(
        Proof.request_id.in_([r.id for r in rows if r.status == "issued"]))).all()) if rows else {}
    return {"items": [request_view(r, proof_id=issued.get(r.id)) for r in rows],
            "next_cursor": str(rows[-1].id) if more and rows else None}


def get_request(user_id: int, request_id: int) -> dict:
    return request_view(_own_request(user_id, request_id))


_UNSET = object()


def request_view(request: ProofRequest, *, proof_id=_UNSET) -> dict:
    spec = CATALOGUE[request.type]
    if proof_id is _UNSET:
        proof_id = db.session.scalar(select(Proof.id).where(Proof.request_id == request.id)) \
            if request.status == "issued" else None
    return {"id": request.id, "type": request.type, "type_name_zh": spec.name_zh, "type_name_en": spec.name_en,
            "purpose": request.purpose, "status": request.status, "created_at": request.created_at,
            "decided_at": request.decided_at, "refusal_reason": request.refusal_reason, "proof_id": proof_id}
