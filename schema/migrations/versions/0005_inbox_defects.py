"""inbox.defects: what parsing found wrong with a mail, and every limit that cut it

Revision ID: 0005_inbox_defects
Revises: 0004_ticket_subject_index
Create Date: 2026-12-06 01:30:00

A part limit, a nesting limit or an HTML conversion budget can cut what a mail's message
shows; until now only `mail explain` said so. The item keeps the list, `mail inbox show`
and `tickets show` print it. NULL on items processed before this revision.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_inbox_defects"
down_revision = "0004_ticket_subject_index"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("defects", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("defects")
