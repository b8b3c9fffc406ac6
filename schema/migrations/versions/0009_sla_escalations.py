"""SLA escalations: raised levels, each ticket's next moment, escalation by SMS

Revision ID: 0009_sla_escalations
Revises: 0008_sla_queue_policies_holidays
Create Date: 2026-12-06 04:00:00

``sla_escalations`` replaces the never-used ``escalations`` table: one row per ticket,
deadline and level (warning, breach, breach2), unique, written with the level's outbox
rows. ``tickets.sla_next_check_at`` (indexed) is when the scan must look at a ticket
next, so the safety scan reads only due tickets. ``sla_policies.escalate_by`` says
whether agents are escalated to by email, SMS or both.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_sla_escalations"
# The last of the chain on main (0007 -> 0010 -> 0011 -> 0008 -> 0012), so there is one head.
down_revision = "0008_sla_queue_policies_holidays"
branch_labels = None
depends_on = None


def _choice(*values: str, name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def upgrade() -> None:
    op.drop_table("escalations")
    op.create_table(
        "sla_escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "deadline", _choice("first_response", "resolution", name="sla_deadline"), nullable=False
        ),
        sa.Column(
            "level", _choice("warning", "breach", "breach2", name="sla_level"), nullable=False
        ),
        sa.Column("outcome", _choice("sent", "superseded", name="sla_outcome"), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notifications", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_sla_escalations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_escalations")),
        sa.UniqueConstraint("ticket_id", "deadline", "level", name="uq_sla_escalations_once"),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("sla_next_check_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index("ix_tickets_sla_next_check", ["sla_next_check_at"], unique=False)
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "escalate_by",
                _choice("email", "sms", "both", name="escalate_by"),
                server_default="email",
                nullable=False,
            )
        )
    # Open tickets that have deadlines: let the first scan plan them.
    op.execute(
        "UPDATE tickets SET sla_next_check_at = created_at WHERE status NOT IN "
        "('resolved', 'closed') AND (first_response_due_at IS NOT NULL "
        "OR resolution_due_at IS NOT NULL)"
    )


def downgrade() -> None:
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_sla_policies_escalate_by"), type_="check")
        batch_op.drop_column("escalate_by")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_sla_next_check")
        batch_op.drop_column("sla_next_check_at")
    op.drop_table("sla_escalations")
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", _choice("first_response", "resolution", name="deadline_kind"), nullable=False
        ),
        sa.Column("level", _choice("warning", "breach", name="escalation_level"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"],
            ["tickets.id"],
            name=op.f("fk_escalations_ticket_id_tickets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("ticket_id", "kind", "level", name="uq_escalations_ticket_kind_level"),
    )
