"""Recording and listing reads of a resident's data by others (scans, licence views, mini-programs)."""
from __future__ import annotations

from sqlalchemy import bindparam, select

from api.access.models import AccessRecord
from api.db import from_timestamp
from api.extensions import db
from api.prepared import Prepared, connection


def record_access(*, user_id: int, kind: str, accessor: dict, now: int, scene: str | None = None,
                  purpose: str | None = None, fields: list | None = None, subject_ref: str | None = None) -> None:
    """Adds the record to the caller's unit of work; the caller commits with its own write."""
    db.session.add(AccessRecord(user_id=user_id, kind=kind, accessor=accessor, scene=scene, purpose=purpose,
                                fields=fields or [], subject_ref=subject_ref, created_at=from_timestamp(now)))


_COLUMNS = ("user_id", "kind", "accessor", "scene", "purpose", "fields", "subject_ref", "created_at")
_INSERT = Prepared(AccessRecord.__table__.insert().values({name: bindparam("b_" + name) for name in _COLUMNS}))


def record_access_now(*, user_id: int, kind: str, accessor: dict, now: int, scene: str | None = None,
                      purpose: str | None = None, fields: list | None = None, subject_ref: str | None = None) -> None:
    """Write the record at once in its own short transaction on a plain connection (a prebuilt
    INSERT, api.prepared, no ORM session): for hot paths whose only write is this record (a scan). When
    this returns, the record is durable and in the resident's access log. One statement, so it
    runs in autocommit where the driver has it (PostgreSQL: one round trip, not three)."""
    with connection(autocommit=True) as conn:
        conn.run(_INSERT, b_user_id=user_id, b_kind=kind, b_accessor=accessor, b_scene=scene, b_purpose=purpose,
                 b_fields=fields or [], b_subject_ref=subject_ref, b_created_at=from_timestamp(now))
        conn.commit()


def list_access(user_id: int, *, before_id: int | None, limit: int, kind: str | None = None,
                subject_ref: str | None = None) -> dict:
    query = select(AccessRecord).where(AccessRecord.user_id == user_id)
    if kind:
        query = query.where(AccessRecord.kind == kind)
    if subject_ref:
        query = query.where(AccessRecord.subject_ref == subject_ref)
    if before_id:
        query = query.where(AccessRecord.id < before_id)
    rows = list(db.session.scalars(query.order_by(AccessRecord.id.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return {"items": rows, "next_cursor": str(rows[-1].id) if more and rows else None}
