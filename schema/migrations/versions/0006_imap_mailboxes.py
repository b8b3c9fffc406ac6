"""IMAP mailboxes: their settings, checkpoints and the UIDs each mail came from

Revision ID: 0006_imap_mailboxes
Revises: 0005_inbox_defects
Create Date: 2026-12-06 00:43:41.944009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_imap_mailboxes"
down_revision = "0005_inbox_defects"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("port", sa.Integer(), nullable=False),
        sa.Column(
            "tls",
            sa.Enum(
                "implicit",
                "starttls",
                "none",
                name="mailbox_tls",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("username", sa.String(length=320), nullable=False),
        sa.Column("password_encrypted", sa.Text(), nullable=True),
        sa.Column("token_command", sa.Text(), nullable=True),
        sa.Column("ca_file", sa.String(length=1000), nullable=True),
        sa.Column("folder", sa.String(length=500), nullable=False),
        sa.Column(
            "after",
            sa.Enum(
                "move",
                "flag",
                "delete",
                name="mailbox_after",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("move_to", sa.String(length=500), nullable=True),
        sa.Column("failed_to", sa.String(length=500), nullable=True),
        sa.Column("queue_id", sa.Integer(), nullable=True),
        sa.Column("poll_seconds", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_error_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["queue_id"],
            ["queues.id"],
            name=op.f("fk_mailboxes_queue_id_queues"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mailboxes")),
        sa.UniqueConstraint("name", name=op.f("uq_mailboxes_name")),
    )
    op.create_table(
        "mailbox_uids",
        sa.Column("mailbox_id", sa.Integer(), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("inbox_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["inbox_id"],
            ["inbox.id"],
            name=op.f("fk_mailbox_uids_inbox_id_inbox"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            ["mailboxes.id"],
            name=op.f("fk_mailbox_uids_mailbox_id_mailboxes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("mailbox_id", "uidvalidity", "uid", name=op.f("pk_mailbox_uids")),
    )
    with op.batch_alter_table("mailbox_uids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mailbox_uids_inbox_id"), ["inbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mailbox_uids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mailbox_uids_inbox_id"))

    op.drop_table("mailbox_uids")
    op.drop_table("mailboxes")
