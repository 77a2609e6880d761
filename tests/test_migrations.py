"""The Alembic migrations build exactly the schema the models declare (on SQLite and PostgreSQL)."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from api.db import Base


def test_migrations_match_the_models(app):
    from api.extensions import db
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff


def test_one_migration_head(app):
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from api.config import PROJECT_ROOT
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(cfg).get_heads()) == 1
