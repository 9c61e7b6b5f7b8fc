"""revocable staff logins (one row per sign-in)

Revision ID: 3f15e1a5ec01
Revises: 79e12279e3b1
Create Date: 2026-12-02 09:00:00

"""

import sqlalchemy as sa
from alembic import op

import webapp.core.db

revision = "3f15e1a5ec01"
down_revision = "79e12279e3b1"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "staff_login",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("remember", sa.Boolean(), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=False),
        sa.Column("created_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.Column("expires_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", webapp.core.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_user.id"], name=op.f("fk_staff_login_staff_id_staff_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_login")),
    )
    with op.batch_alter_table("staff_login", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_staff_login_staff_id"), ["staff_id"], unique=False)


def downgrade():
    with op.batch_alter_table("staff_login", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_login_staff_id"))
    op.drop_table("staff_login")
