"""PostgreSQL notifies a commit that changes what a module page reads

A statement-level trigger on each table a module page's read comes from (the user and their
memberships, the course, its modules and their current versions, the learner's progress)
sends a notification on the ``liboppi_changes`` channel; PostgreSQL delivers it when the
transaction commits, once per transaction however many rows or tables it changed, and never
for one that rolls back. A served app process listens on that channel and keeps a module
page's read only until the next notification (``liboppi.database.ChangeListener``).
Answers, attempts and the xAPI outbox, which change all the time, have no such trigger: a
module page does not read them. SQLite changes nothing here (its data version tells the
same without triggers).

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

CHANNEL = "liboppi_changes"
#: The tables a module page's read comes from: ``progress._signed_in_page_query``'s.
TABLES = ("users", "memberships", "courses", "modules", "module_versions", "module_progress")
FUNCTION = "liboppi_notify_change"
TRIGGER = "liboppi_notify_change"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"CREATE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$"
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {FUNCTION}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER {TRIGGER} ON {table}")
    op.execute(f"DROP FUNCTION {FUNCTION}()")
