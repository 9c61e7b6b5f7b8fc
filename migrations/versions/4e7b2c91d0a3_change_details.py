"""change log: the typed facts of each change

Revision ID: 4e7b2c91d0a3
Revises: be3cc1b917cb
Create Date: 2026-12-03 10:12:40.512301

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "4e7b2c91d0a3"
down_revision = "be3cc1b917cb"
branch_labels = None
depends_on = None


def upgrade():
    # Rows from before keep no facts (NULL): the change log shows their stored German summary.
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.add_column(sa.Column("details", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("change", schema=None) as batch_op:
        batch_op.drop_column("details")
