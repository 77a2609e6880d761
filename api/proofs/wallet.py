"""The resident's issued proofs: the list, one proof with its payload, and its PDF document.

Only the holder reaches a proof here: another resident's id answers 404 like a missing one.
"""
from __future__ import annotations

from sqlalchemy import select

from api.errors import AppError
from api.extensions import db, get_config
from api.proofs import document
from api.proofs.catalogue import CATALOGUE
from api.proofs.issuing import cipher, field_views, holder_name, proof_fields, proof_payload, proof_status, shanghai
from api.proofs.models import Proof
from api.ratelimits import enforce

DOCUMENTS_PER_MINUTE = 20      # per resident: a PDF costs tens of milliseconds of CPU


def _own_proof(user_id: int, proof_id: int) -> Proof:
    proof = db.session.get(Proof, proof_id) if 0 < proof_id < 2**63 else None
    if proof is None or proof.user_id != user_id:
        raise AppError("PROOF_NOT_FOUND")
    return proof


def proof_view(proof: Proof, *, now: int, fields: dict, payload: str | None = None) -> dict:
    spec = CATALOGUE[proof.type]
    out = {"id": proof.id, "number": proof.number, "type": proof.type, "type_name_zh": spec.name_zh,
           "type_name_en": spec.name_en, "status": proof_status(proof, now), "request_id": proof.request_id,
           "holder": {"name": proof.holder_name_masked, "id_type": proof.holder_id_type,
                      "id_number": proof.holder_id_masked},
           "fields": field_views(spec, fields), "issuer": {"name": proof.issuer_name}, "purpose": proof.purpose,
           "issued_at": proof.issued_at, "valid_from": proof.valid_from, "valid_until": proof.valid_until,
           "revoked_at": proof.revoked_at}
    if payload is not None:
        out["payload"] = payload
    return out


def list_proofs(user_id: int, *, before_id: int | None, limit: int, now: int) -> dict:
    """Newest first, keyset by id; without payloads (ask for one proof to show its QR)."""
    query = select(Proof).where(Proof.user_id == user_id)
    if before_id:
        query = query.where(Proof.id < before_id)
    rows = list(db.session.scalars(query.order_by(Proof.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    pii = cipher()
    return {"items": [proof_view(p, now=now, fields=proof_fields(p, pii)) for p in rows],
            "next_cursor": str(rows[-1].id) if more and rows else None}


def get_proof(user_id: int, proof_id: int, *, now: int) -> dict:
    proof = _own_proof(user_id, proof_id)
    fields = proof_fields(proof)
    return proof_view(proof, now=now, fields=fields, payload=proof_payload(proof, fields))


def proof_document(user_id: int, proof_id: int, *, now: int) -> tuple[bytes, str]:
    """The proof as a PDF carrying a QR of its payload; (bytes, file name). A revoked or expired
    proof has no document (409): a printed copy of it would mislead whoever reads it."""
    proof = _own_proof(user_id, proof_id)
    status = proof_status(proof, now)
    if status == "revoked":
        raise AppError("PROOF_REVOKED")
    if status == "expired":
        raise AppError("PROOF_EXPIRED")
    enforce(f"{DOCUMENTS_PER_MINUTE}/minute", "proof-document", str(user_id))
    pii = cipher()
    fields = proof_fields(proof, pii)
    spec = CATALOGUE[proof.type]
    content = document.ProofDocument(
        title_zh=spec.name_zh, title_en=spec.name_en, number=proof.number, holder_name=holder_name(proof, pii),
        id_type_zh=ID_TYPE_NAMES[proof.holder_id_type][0], id_type_en=ID_TYPE_NAMES[proof.holder_id_type][1],
        id_number_masked=proof.holder_id_masked,
        fields=[(f["label_zh"], f["label_en"], f["display_zh"], f["display_en"]) for f in field_views(spec, fields)],
        issuer_name=proof.issuer_name, purpose=proof.purpose,
        issued_at=shanghai(proof.issued_at).strftime("%Y-%m-%d %H:%M (UTC+8)"),
        valid_until=shanghai(proof.valid_until).strftime("%Y-%m-%d %H:%M (UTC+8)"),
        verify_url=get_config().PUBLIC_BASE_URL.rstrip("/") + "/v1/proofs/verify",
        payload=proof_payload(proof, fields))
    return document.render(content), f"proof-{proof.number}.pdf"


# How the document names the holder's identity document (every type in ID_TYPES).
ID_TYPE_NAMES = {
    "resident_id": ("居民身份证", "Resident identity card"),
    "passport": ("护照", "Passport"),
    "hk_macau_permit": ("港澳居民来往内地通行证", "Mainland travel permit for Hong Kong and Macao residents"),
    "taiwan_permit": ("台湾居民来往大陆通行证", "Mainland travel permit for Taiwan residents"),
}
