"""SLA: policies per queue, a default policy, holidays, paused business time on tickets

Revision ID: 0008_sla_queue_policies_holidays
Revises: 0007_message_participant_held
Create Date: 2026-12-06 04:00:00

A policy may name a queue: one policy per (queue, priority) instead of one per priority,
with two partial unique indexes because a unique index treats NULL queues as distinct on
both databases. ``is_default`` marks the fallback policy (at most one); the policy of the
``normal`` priority for all queues becomes it, as on a fresh install. ``sla_holidays``
holds days on which a policy's clock (or every policy's) does not run. Tickets keep the
business seconds their clocks stood still, so deadlines can be recomputed from creation.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_sla_queue_policies_holidays"
down_revision = "0007_message_participant_held"
branch_labels = None
depends_on = None


def _unique_where(name: str, table: str, columns: list[str], where: str) -> None:
    op.create_index(
        name,
        table,
        columns,
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.add_column(sa.Column("queue_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("is_default", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.drop_constraint("uq_sla_policies_priority", type_="unique")
        batch_op.create_foreign_key(
            op.f("fk_sla_policies_queue_id_queues"),
            "queues",
            ["queue_id"],
            ["id"],
            ondelete="CASCADE",
        )
    policies = sa.table(
        "sla_policies",
        sa.column("priority", sa.String()),
        sa.column("is_default", sa.Boolean()),
    )
    op.execute(policies.update().where(policies.c.priority == "normal").values(is_default=True))
    _unique_where(
        "uq_sla_policies_queue_priority",
        "sla_policies",
        ["queue_id", "priority"],
        "queue_id IS NOT NULL",
    )
    _unique_where(
        "uq_sla_policies_any_queue_priority", "sla_policies", ["priority"], "queue_id IS NULL"
    )
    _unique_where("uq_sla_policies_default", "sla_policies", ["is_default"], "is_default")

    op.create_table(
        "sla_holidays",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("policy_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["sla_policies.id"],
            name=op.f("fk_sla_holidays_policy_id_sla_policies"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_holidays")),
    )
    op.create_index(op.f("ix_sla_holidays_policy_id"), "sla_holidays", ["policy_id"])
    _unique_where(
        "uq_sla_holidays_day_policy", "sla_holidays", ["day", "policy_id"], "policy_id IS NOT NULL"
    )
    _unique_where("uq_sla_holidays_day_all", "sla_holidays", ["day"], "policy_id IS NULL")

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        for column in ("first_response_paused_seconds", "resolution_paused_seconds"):
            batch_op.add_column(sa.Column(column, sa.Integer(), server_default="0", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_column("resolution_paused_seconds")
        batch_op.drop_column("first_response_paused_seconds")
    op.drop_table("sla_holidays")
    for name in (
        "uq_sla_policies_default",
        "uq_sla_policies_any_queue_priority",
        "uq_sla_policies_queue_priority",
    ):
        op.drop_index(name, table_name="sla_policies")
    # Back to one policy per priority: queue-specific policies have no place there.
    op.execute(sa.text("DELETE FROM sla_policies WHERE queue_id IS NOT NULL"))
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_sla_policies_queue_id_queues"), type_="foreignkey")
        batch_op.create_unique_constraint(op.f("uq_sla_policies_priority"), ["priority"])
        batch_op.drop_column("is_default")
        batch_op.drop_column("queue_id")
