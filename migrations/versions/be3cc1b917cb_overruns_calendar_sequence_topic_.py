"""overruns, calendar sequence, topic phrases, favourites with the ticket

Revision ID: be3cc1b917cb
Revises: 2d45c50d9130
Create Date: 2026-12-02 16:38:34.125450

"""

import sqlalchemy as sa
from alembic import op

import webapp.core.db

# revision identifiers, used by Alembic.
revision = "be3cc1b917cb"
down_revision = "2d45c50d9130"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "favourite",
        sa.Column("guest_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("created_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guest.id"], name=op.f("fk_favourite_guest_id_guest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"], ["session.id"], name=op.f("fk_favourite_session_id_session"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("guest_id", "session_id", name=op.f("pk_favourite")),
    )
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("calendar_token", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_guest_calendar_token"), ["calendar_token"])

    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("overrun_minutes", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("sequence", sa.Integer(), nullable=False, server_default="0"))

    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.add_column(sa.Column("phrase", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("phrase_indefinite", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("phrase_en", sa.String(length=200), nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("topic", schema=None) as batch_op:
        batch_op.drop_column("phrase_en")
        batch_op.drop_column("phrase_indefinite")
        batch_op.drop_column("phrase")

    with op.batch_alter_table("session", schema=None) as batch_op:
        batch_op.drop_column("sequence")
        batch_op.drop_column("overrun_minutes")

    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_guest_calendar_token"), type_="unique")
        batch_op.drop_column("calendar_token")

    op.drop_table("favourite")
