"""module version source facts

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("module_versions") as batch_op:
        batch_op.add_column(sa.Column("source_facts", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("module_versions") as batch_op:
        batch_op.drop_column("source_facts")
