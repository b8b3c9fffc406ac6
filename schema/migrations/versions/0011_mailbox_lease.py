"""mailboxes: lease_holder and lease_expires_at; mailbox_uids: filed_at

Revision ID: 0011_mailbox_lease
Revises: 0010_csat
Create Date: 2026-12-06 04:00:00

The lease that lets one gateway at a time read a mailbox (``gateway.imap.lease``): who
holds it, and until when. Empty until a poller takes it. ``mailbox_uids.filed_at``: when a
mail the pipeline parked failed was filed into the mailbox's failed folder
(``gateway.imap.failed_filing``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_mailbox_lease"
down_revision = "0010_csat"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_holder", sa.String(length=200), nullable=True))
        batch_op.add_column(
            sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("mailbox_uids", schema=None) as batch_op:
        batch_op.add_column(sa.Column("filed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mailbox_uids", schema=None) as batch_op:
        batch_op.drop_column("filed_at")
    with op.batch_alter_table("mailboxes", schema=None) as batch_op:
        batch_op.drop_column("lease_expires_at")
        batch_op.drop_column("lease_holder")
