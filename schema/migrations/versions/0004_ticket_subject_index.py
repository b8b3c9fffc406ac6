"""an index on tickets.subject, for bare replies

Revision ID: 0004_ticket_subject_index
Revises: 0003_sms_media
Create Date: 2026-12-06 01:00:00

A reply without In-Reply-To/References threads by its subject (gateway/threading.py):
each batch asks which tickets carry the subjects of its bare replies, in one query that
would otherwise read every ticket.
"""

from __future__ import annotations

from alembic import op

revision = "0004_ticket_subject_index"
down_revision = "0003_sms_media"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tickets_subject", "tickets", ["subject"])


def downgrade() -> None:
    op.drop_index("ix_tickets_subject", table_name="tickets")
