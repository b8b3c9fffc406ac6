"""tickets: the satisfaction survey; queues: the switch for it

Revision ID: 0010_csat
Revises: 0009_sla_escalations
Create Date: 2026-12-06 04:00:00

``csat_asked_at`` is when the resolved notification asked the customer for a rating (at
most once per ticket: a second resolution does not ask again); ``rated_at`` and
``rated_via`` (email, sms, link) say when and how the answer came. The rating itself and
its comment use the columns the first schema already had (``satisfaction_rating``,
``satisfaction_comment``). ``queues.csat`` turns the survey on or off per queue (on by
default).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_csat"
down_revision = "0009_sla_escalations"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("csat_asked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rated_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rated_via", sa.String(length=16), nullable=True))
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("csat", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("queues", schema=None) as batch_op:
        batch_op.drop_column("csat")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("rated_via")
        batch_op.drop_column("rated_at")
        batch_op.drop_column("csat_asked_at")
