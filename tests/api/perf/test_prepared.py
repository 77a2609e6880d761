"""api.prepared reads and writes exactly what SQLAlchemy Core would (types, UTC datetimes, JSON)."""
from datetime import UTC, datetime

from sqlalchemy import bindparam, select

from api.access.models import AccessRecord
from api.access.records import record_access_now
from api.extensions import db
from api.identity.sessions import get_or_create_user
from api.prepared import Prepared, connection
from api.unit_of_work import commit

_BY_USER = Prepared(select(AccessRecord.id, AccessRecord.kind, AccessRecord.accessor, AccessRecord.fields,
                           AccessRecord.scene, AccessRecord.created_at)
                    .where(AccessRecord.user_id == bindparam("user_id"), AccessRecord.kind == "code_scan")
                    .order_by(AccessRecord.id))


def test_prepared_rows_equal_core_rows(app):
    with app.app_context():
        user = get_or_create_user("+8613911112222", now=1_800_000_000)
        commit()
        for ts in (1_800_000_000, 1_800_000_000.25, 1_800_000_001.000001):
            record_access_now(user_id=user.id, kind="code_scan", accessor={"venue": "人民广场", "n": 1},
                              scene="general", now=ts, fields=["name"])
        with connection() as conn:
            fast = conn.all(_BY_USER, user_id=user.id)
        core = db.session.execute(_BY_USER.statement, {"user_id": user.id}).all()
    assert [tuple(r) for r in fast] == [tuple(r) for r in core]
    assert len(fast) == 3 and fast[1].accessor == {"venue": "人民广场", "n": 1} and fast[1].fields == ["name"]
    assert fast[1].created_at == datetime.fromtimestamp(1_800_000_000.25, UTC)
    assert all(r.created_at.tzinfo is not None for r in fast)


def test_an_uncommitted_write_is_rolled_back(app):
    from api.access.records import _INSERT
    with app.app_context():
        user = get_or_create_user("+8613911113333", now=1_800_000_000)
        commit()
        with connection() as conn:
            conn.run(_INSERT, b_user_id=user.id, b_kind="code_scan", b_accessor={}, b_scene=None, b_purpose=None,
                     b_fields=[], b_subject_ref=None, b_created_at=datetime.now(UTC))
        with connection() as conn:
            assert conn.all(_BY_USER, user_id=user.id) == []


def test_a_read_only_connection_goes_back_to_the_pool_transactional(app):
    with app.app_context():
        with connection(read_only=True) as conn:
            driver = conn._raw.driver_connection
            assert conn.all(_BY_USER, user_id=0) == []
        assert getattr(driver, "autocommit", False) is False


def test_database_errors_surface_as_core_raises_them(app):
    """So the app's handlers answer them as for any statement (e.g. 503 DATABASE_UNAVAILABLE),
    never a 500 from a raw driver exception."""
    import pytest
    from sqlalchemy import column, table
    from sqlalchemy.exc import DBAPIError

    missing = Prepared(select(column("x")).select_from(table("no_such_table")).where(column("x") == bindparam("x")))
    with app.app_context(), pytest.raises(DBAPIError) as raised, connection() as conn:
        conn.all(missing, x=1)
    assert "no_such_table" in str(raised.value.orig)
