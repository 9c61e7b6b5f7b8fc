"""delegates and invitation codes, versions of a municipality's board answers, server time of check-ins

Revision ID: 4a15d0e1e9a7
Revises: 3f15e1a5ec01
Create Date: 2026-12-02 09:30:00

"""

import secrets

import sqlalchemy as sa
from alembic import op

import webapp.core.db

revision = "4a15d0e1e9a7"
down_revision = "3f15e1a5ec01"
branch_labels = None
depends_on = None

INVITE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def upgrade():
    # The undo window runs on the server's clock: existing check-ins were stored when they say.
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recorded_at", webapp.core.db.UTCDateTime(), nullable=True))
    op.execute("UPDATE check_in SET recorded_at = at")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.alter_column("recorded_at", existing_type=webapp.core.db.UTCDateTime(), nullable=False)

    # Guests the organisers added or imported speak for their municipality; self-registered ones do not
    # until confirmed.
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_delegate", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE guest SET is_delegate = (source <> 'self')")

    with op.batch_alter_table("municipality", schema=None) as batch_op:
        batch_op.add_column(sa.Column("invite_code", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("answers_version", sa.Integer(), nullable=False, server_default="0"))
    connection = op.get_bind()
    ids = connection.execute(sa.text("SELECT id FROM municipality")).scalars().all()
    for municipality_id in ids:
        code = "".join(secrets.choice(INVITE_ALPHABET) for _ in range(10))
        connection.execute(
            sa.text("UPDATE municipality SET invite_code = :code WHERE id = :id"), {"code": code, "id": municipality_id}
        )
    with op.batch_alter_table("municipality", schema=None) as batch_op:
        batch_op.alter_column("invite_code", existing_type=sa.String(length=10), nullable=False)


def downgrade():
    with op.batch_alter_table("municipality", schema=None) as batch_op:
        batch_op.drop_column("answers_version")
        batch_op.drop_column("invite_code")
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.drop_column("is_delegate")
    with op.batch_alter_table("check_in", schema=None) as batch_op:
        batch_op.drop_column("recorded_at")
