"""codes: venues, venue staff grants, check-ins, revocation feed

Revision ID: 0004_codes
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

import api.db

revision = "0004_codes"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "venues",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("address", sa.String(length=256), nullable=False),
        sa.Column("district", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("scenes", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", BigId, nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name=op.f("fk_venues_created_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
        sa.UniqueConstraint("public_id", name=op.f("uq_venues_public_id")),
    )
    op.create_table(
        "venue_staff",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("venue_id", BigId, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("scenes", sa.JSON(), nullable=False),
        sa.Column("granted_by", BigId, nullable=True),
        sa.Column("granted_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name=op.f("fk_venue_staff_venue_id_venues"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_venue_staff_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["granted_by"], ["users.id"], name=op.f("fk_venue_staff_granted_by_users"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_staff")),
        sa.UniqueConstraint("venue_id", "user_id", name=op.f("uq_venue_staff_venue_id")),
    )
    op.create_index(op.f("ix_venue_staff_user_id"), "venue_staff", ["user_id"], unique=False)
    op.create_table(
        "checkins",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("user_id", BigId, nullable=False),
        sa.Column("venue_id", BigId, nullable=False),
        sa.Column("place_code_jti", sa.String(length=32), nullable=False),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_checkins_user_id_users"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["venue_id"], ["venues.id"], name=op.f("fk_checkins_venue_id_venues"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkins")),
    )
    op.create_index("ix_checkins_user_id_id", "checkins", ["user_id", "id"], unique=False)
    op.create_index("ix_checkins_venue_id_created_at", "checkins", ["venue_id", "created_at"], unique=False)
    op.create_table(
        "revocations",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("until", api.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", api.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_revocations")),
    )


def downgrade() -> None:
    op.drop_table("revocations")
    op.drop_index("ix_checkins_venue_id_created_at", table_name="checkins")
    op.drop_index("ix_checkins_user_id_id", table_name="checkins")
    op.drop_table("checkins")
    op.drop_index(op.f("ix_venue_staff_user_id"), table_name="venue_staff")
    op.drop_table("venue_staff")
    op.drop_table("venues")
