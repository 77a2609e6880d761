"""Issuing a proof (the composed writer both the instant path and departments use), its payload,
its status, and the inbox messages that tell the resident.

Writers here never commit: the calling use case owns the unit of work.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime

from api.db import from_timestamp
from api.extensions import db, get_config, get_keyring, pii_cipher
from api.identity.models import User
from api.localtime import LOCAL_TZ
from api.notifications.inbox import deliver_to_user
from api.pii import PiiCipher, mask_name
from api.proofs.catalogue import CATALOGUE, ProofType
from api.proofs.models import Proof, ProofRequest
from qr.proofs import sign_proof

# Proofs issued at once from registry data are issued by the platform itself.
INSTANT_ISSUER_NAME = "上海市一网通办（人口信息库核验）"
_NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"   # Crockford base32: no I, L, O, U


def cipher() -> PiiCipher:
    return pii_cipher()


def shanghai(moment: datetime) -> datetime:
    return moment.astimezone(LOCAL_TZ)


def new_number(now: int) -> str:
    """`ZM` + the Shanghai date + 10 random base32 characters: printable, unguessable, 20 chars."""
    day = shanghai(from_timestamp(now)).strftime("%Y%m%d")
    return "ZM" + day + "".join(secrets.choice(_NUMBER_ALPHABET) for _ in range(10))


def holder_identity(user: User, pii: PiiCipher) -> tuple[str, str]:
    """The verified holder's full name and identity number (decrypted; never logged)."""
    return (pii.decrypt(user.real_name_enc, context="users.real_name"),
            pii.decrypt(user.id_number_enc, context="users.id_number"))


def write_proof(request: ProofRequest, *, spec: ProofType, fields: dict, valid_days: int,
                issuer_id: int | None, issuer_name: str, now: int) -> Proof:
    """Issue the proof for a pending request: the proof row, the request closed, the resident
    told in the inbox. Adds to the caller's unit of work; the caller commits."""
    user = db.session.get(User, request.user_id)
    pii = cipher()
    name, _ = holder_identity(user, pii)
    number = new_number(now)
    stamp = from_timestamp(now)
    proof = Proof(number=number, request_id=request.id, user_id=request.user_id, type=spec.code,
                  issuer_id=issuer_id, issuer_name=issuer_name,
                  holder_name_enc=pii.encrypt(name, context=f"proofs.holder_name|{number}"),
                  holder_name_masked=mask_name(name), holder_id_type=user.id_type,
                  holder_id_masked=user.id_number_masked,
                  fields_enc=pii.encrypt(_canonical(fields), context=f"proofs.fields|{number}"),
                  purpose=request.purpose, status="issued", issued_at=stamp, valid_from=stamp,
                  valid_until=from_timestamp(now + valid_days * 86400))
    db.session.add(proof)
    _close(request, status="issued", issuer_id=issuer_id, now=now)
    db.session.flush()
    tell_issued(proof, spec, now=now)
    return proof


def _close(request: ProofRequest, *, status: str, issuer_id: int | None, now: int) -> None:
    request.status = status
    request.pending_key = None
    request.decided_by = issuer_id
    request.decided_at = from_timestamp(now)


def refuse(request: ProofRequest, *, reason: str, issuer_id: int, now: int) -> None:
    """Close a pending request as refused and tell the resident why (caller commits)."""
    _close(request, status="refused", issuer_id=issuer_id, now=now)
    request.refusal_reason = reason
    spec = CATALOGUE[request.type]
    deliver_to_user(request.user_id, category="service", now=now, deep_link=f"ssb://proofs/requests/{request.id}",
                    title=f"您申请的{spec.name_zh}未予出具", title_en=f"Your {spec.name_en.lower()} was not issued",
                    body=f"出具部门答复：{reason}", body_en=f"The department's answer: {reason}")


def tell_issued(proof: Proof, spec: ProofType, *, now: int) -> None:
    until = shanghai(proof.valid_until).date().isoformat()
    deliver_to_user(proof.user_id, category="service", now=now, deep_link=f"ssb://proofs/{proof.id}",
                    title=f"您申请的{spec.name_zh}已出具", title_en=f"Your {spec.name_en.lower()} has been issued",
                    body=f"证明编号 {proof.number}，有效期至 {until}。可在“我的电子证明”中查看、下载。",
                    body_en=f"Proof number {proof.number}, valid until {until}. View or download it under "
                            f"My e-proofs.")


def tell_revoked(proof: Proof, *, now: int) -> None:
    spec = CATALOGUE[proof.type]
    deliver_to_user(proof.user_id, category="service", now=now, deep_link=f"ssb://proofs/{proof.id}",
                    title=f"您的{spec.name_zh}已被撤销", title_en=f"Your {spec.name_en.lower()} was revoked",
                    body=f"证明编号 {proof.number} 已由{proof.issuer_name}撤销，核验时将显示为已撤销。",
                    body_en=f"Proof number {proof.number} was revoked by the issuing authority; checks now "
                            f"show it as revoked.")


def _canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def proof_fields(proof: Proof, pii: PiiCipher | None = None) -> dict:
    return json.loads((pii or cipher()).decrypt(proof.fields_enc, context=f"proofs.fields|{proof.number}"))


def holder_name(proof: Proof, pii: PiiCipher | None = None) -> str:
    return (pii or cipher()).decrypt(proof.holder_name_enc, context=f"proofs.holder_name|{proof.number}")


def proof_status(proof: Proof, now: int) -> str:
    if proof.status == "revoked":
        return "revoked"
    moment = from_timestamp(now)
    if moment >= proof.valid_until:
        return "expired"
    if moment < proof.valid_from:
        return "not_yet_valid"
    return "valid"


def proof_payload(proof: Proof, fields: dict) -> str:
    """The proof's compact JWS (`ssb-proof+jwt`, our newest key). Ed25519 is deterministic, so
    the same proof gives the same payload until the key rotates; nothing is stored."""
    claims = {"iss": get_config().TOKEN_ISSUER, "jti": proof.number, "pt": proof.type,
              "iat": int(proof.issued_at.timestamp()), "nbf": int(proof.valid_from.timestamp()),
              "exp": int(proof.valid_until.timestamp()), "hn": proof.holder_name_masked,
              "dep": proof.issuer_name, "fld": fields}
    return sign_proof(claims, key=get_keyring().signing_key())


def field_views(spec: ProofType, values: dict) -> list[dict]:
    """The fields in catalogue order, each with its labels and the display text of its value."""
    out = []
    for f in spec.fields:
        if f.name in values:
            zh, en = f.display(values[f.name])
            out.append({"name": f.name, "label_zh": f.label_zh, "label_en": f.label_en,
                        "value": values[f.name], "display_zh": zh, "display_en": en})
    return out
