"""registration window, capacity, board switch

Revision ID: 5c1e7a9d2b40
Revises: 3ead98e81a3b
Create Date: 2026-12-02 13:55:00.000000

"""

import sqlalchemy as sa
from alembic import op

import webapp.core.db

# revision identifiers, used by Alembic.
revision = "5c1e7a9d2b40"
down_revision = "3ead98e81a3b"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("registration_opens_at", webapp.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("registration_closes_at", webapp.core.db.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("capacity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("board_enabled", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_column("board_enabled")
        batch_op.drop_column("capacity")
        batch_op.drop_column("registration_closes_at")
        batch_op.drop_column("registration_opens_at")
