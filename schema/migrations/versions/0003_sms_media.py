"""MMS media fetches; outbox rows found by provider id

Revision ID: 0003_sms_media
Revises: 0002
Create Date: 2026-12-06 01:00:00

``media_fetches`` holds one row per MMS media URL until a worker has fetched it into the
attachment store. Twilio's delivery callbacks look outbox rows up by the SID Twilio gave
(``provider_id``), hence its index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_sms_media"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_fetches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("content_type", sa.String(length=200), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "fetching",
                "done",
                "failed",
                name="media_status",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attachment_id", sa.Integer(), nullable=True),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attachment_id"],
            ["attachments.id"],
            name=op.f("fk_media_fetches_attachment_id_attachments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_media_fetches_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_fetches")),
    )
    with op.batch_alter_table("media_fetches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_media_fetches_message_id"), ["message_id"], unique=False
        )
        batch_op.create_index(
            "ix_media_fetches_status_next_attempt", ["status", "next_attempt_at"], unique=False
        )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_provider_id"), ["provider_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_provider_id"))
    with op.batch_alter_table("media_fetches", schema=None) as batch_op:
        batch_op.drop_index("ix_media_fetches_status_next_attempt")
        batch_op.drop_index(batch_op.f("ix_media_fetches_message_id"))
    op.drop_table("media_fetches")
