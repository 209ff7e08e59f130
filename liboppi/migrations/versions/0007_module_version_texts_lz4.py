"""module version texts compressed with lz4 on PostgreSQL

A module version holds three texts of the module's size (the file, its HTML and its plain
text) and its search vector. PostgreSQL compresses such values with pglz by default, which
took about 1.1 s of server CPU for an import of 1,000 modules of 20 KB, as long as the rest
of their INSERT; lz4 takes a fifth of that and reads back faster. Only values written from
now on are compressed this way; the ones stored keep pglz, and both read the same. A server
built without lz4 keeps pglz (the change is skipped). SQLite stores text uncompressed: this
changes nothing there.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

COLUMNS = ("raw_text", "html", "plain_text", "search_vector")


def _set_compression(method: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    changes = ", ".join(f"ALTER COLUMN {column} SET COMPRESSION {method}" for column in COLUMNS)
    # A server without lz4 refuses the method (feature_not_supported): it keeps its default.
    op.execute(
        "DO $$ BEGIN "
        f"ALTER TABLE module_versions {changes}; "
        "EXCEPTION WHEN feature_not_supported THEN NULL; "
        "END $$"
    )


def upgrade() -> None:
    _set_compression("lz4")


def downgrade() -> None:
    _set_compression("default")
