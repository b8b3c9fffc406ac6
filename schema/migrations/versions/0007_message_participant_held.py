"""messages: participant and held_reason

Revision ID: 0007_message_participant_held
Revises: 0006_imap_mailboxes
Create Date: 2026-12-06 01:10:00

``participant`` marks a message whose sender is not a participant of its ticket (a
stranger who threaded in by a Message-ID), so that it is never shown as the customer's and
does not move the customer's SLA clock. ``held_reason`` says why a message that was meant
for someone is kept internal (an agent reply that quotes an internal note, has no words of
its own or is automatic; an automatic mail), so that only real notes are checked for leaks.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_message_participant_held"
down_revision = "0006_imap_mailboxes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("participant", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(sa.Column("held_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("held_reason")
        batch_op.drop_column("participant")
