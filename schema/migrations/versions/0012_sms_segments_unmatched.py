"""outbox: segments and encoding of an SMS; delivery statuses waiting for their SID

Revision ID: 0012_sms_segments_unmatched
Revises: 0011_mailbox_lease
Create Date: 2026-12-06 04:10:00

``outbox.segments`` and ``outbox.encoding`` record the SMS as it was sent, so ``outbox
list/show`` read them from the row instead of rendering it again (a template changed
since would show a length that was never sent). ``unmatched_status_callbacks`` keeps a
Twilio status callback that arrived before the worker committed the SID it belongs to;
it is applied when the SID is recorded.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_sms_segments_unmatched"
down_revision = "0011_mailbox_lease"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("segments", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("encoding", sa.String(length=8), nullable=True))
    op.create_table(
        "unmatched_status_callbacks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sid", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("error_code", sa.String(length=16), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unmatched_status_callbacks")),
    )
    with op.batch_alter_table("unmatched_status_callbacks", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unmatched_status_callbacks_sid"), ["sid"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_unmatched_status_callbacks_received_at"), ["received_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("unmatched_status_callbacks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unmatched_status_callbacks_received_at"))
        batch_op.drop_index(batch_op.f("ix_unmatched_status_callbacks_sid"))
    op.drop_table("unmatched_status_callbacks")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("encoding")
        batch_op.drop_column("segments")
