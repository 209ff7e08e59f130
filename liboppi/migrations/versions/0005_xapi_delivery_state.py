"""xapi delivery state

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

import liboppi.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "xapi_delivery_state",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("auth_failed_at", liboppi.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("auth_failure", sa.Text(), nullable=True),
        sa.Column("last_error_at", liboppi.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "last_delivered_at", liboppi.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_xapi_delivery_state")),
    )


def downgrade() -> None:
    op.drop_table("xapi_delivery_state")
