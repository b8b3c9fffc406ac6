"""lz4 for the large text and bytes columns on PostgreSQL

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 14:50:00

PostgreSQL compresses values over ~2 kB with pglz by default. For raw mail, message
texts and notification contexts that was a quarter of the database server's CPU during
an import (2.5 s of 8 s for 3,000 new requests); lz4 compresses them too, at a fraction
of the CPU (1.9 s). PostgreSQL before 14, or built without lz4, keeps pglz: the change is
skipped, not failed. SQLite does not compress.
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = (
    ("inbox", "raw"),
    ("messages", "visible_text"),
    ("messages", "full_text"),
    ("messages", "html"),
    ("outbox", "context"),
)


def _set(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    alters = "\n".join(
        f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method};"
        for table, column in COLUMNS
    )
    op.execute(
        f"""
        DO $$ BEGIN
        {alters}
        EXCEPTION WHEN feature_not_supported OR syntax_error THEN
            RAISE NOTICE 'lz4 compression not available: columns keep pglz';
        END $$;
        """
    )


def upgrade() -> None:
    _set("lz4")


def downgrade() -> None:
    _set("pglz")
