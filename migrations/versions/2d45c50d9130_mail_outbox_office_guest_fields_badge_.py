"""mail outbox, office guest fields, badge code, kiosks

Revision ID: 2d45c50d9130
Revises: 36a809f65ca4
Create Date: 2026-12-02 16:21:26.052834

"""

import secrets

import sqlalchemy as sa
from alembic import op

import webapp.core.db

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # webapp.checkin.models.CODE_ALPHABET at this revision


# revision identifiers, used by Alembic.
revision = "2d45c50d9130"
down_revision = "36a809f65ca4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "mailing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("created_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["event.id"], name=op.f("fk_mailing_event_id_event"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailing")),
    )
    with op.batch_alter_table("mailing", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailing_event_id"), ["event_id"], unique=False)

    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("mailing_id", sa.Integer(), nullable=True),
        sa.Column("guest_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.Column("claimed_at", webapp.core.db.UTCDateTime(), nullable=True),
        sa.Column("sent_at", webapp.core.db.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", webapp.core.db.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_outbox_message_event_id_event"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["guest_id"], ["guest.id"], name=op.f("fk_outbox_message_guest_id_guest"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["mailing_id"], ["mailing.id"], name=op.f("fk_outbox_message_mailing_id_mailing"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
        sa.UniqueConstraint("mailing_id", "guest_id", name=op.f("uq_outbox_message_mailing_id_guest_id")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outbox_message_message_id")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_message_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_guest_id"), ["guest_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_mailing_id"), ["mailing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_message_status"), ["status"], unique=False)

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=10), nullable=False, server_default="scanner"))
        batch_op.add_column(sa.Column("pin_hash", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("prints_badges", sa.Boolean(), nullable=False, server_default=sa.false()))

    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.add_column(sa.Column("salutation", sa.String(length=20), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("title", sa.String(length=40), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("given_name", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("family_name", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("notes", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("language", sa.String(length=5), nullable=False, server_default="de"))
        batch_op.add_column(sa.Column("badge_code", sa.String(length=16), nullable=True))

    # Every existing guest gets their own random badge code, then the column becomes required and unique.
    guest = sa.table("guest", sa.column("id", sa.Integer), sa.column("badge_code", sa.String))
    conn = op.get_bind()
    for (guest_id,) in conn.execute(sa.select(guest.c.id)).fetchall():
        code = "".join(secrets.choice(ALPHABET) for _ in range(10))
        conn.execute(guest.update().where(guest.c.id == guest_id).values(badge_code=code))
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.alter_column("badge_code", existing_type=sa.String(length=16), nullable=False)
        batch_op.create_unique_constraint(batch_op.f("uq_guest_badge_code"), ["badge_code"])


def downgrade():
    with op.batch_alter_table("guest", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_guest_badge_code"), type_="unique")
        batch_op.drop_column("badge_code")
        batch_op.drop_column("language")
        batch_op.drop_column("notes")
        batch_op.drop_column("family_name")
        batch_op.drop_column("given_name")
        batch_op.drop_column("title")
        batch_op.drop_column("salutation")

    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_column("prints_badges")
        batch_op.drop_column("pin_hash")
        batch_op.drop_column("kind")

    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_status"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_mailing_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_guest_id"))
        batch_op.drop_index(batch_op.f("ix_outbox_message_event_id"))

    op.drop_table("outbox_message")
    with op.batch_alter_table("mailing", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailing_event_id"))

    op.drop_table("mailing")
