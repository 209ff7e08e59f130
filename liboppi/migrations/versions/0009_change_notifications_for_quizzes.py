"""PostgreSQL notifies a commit that changes a quiz

Migration 0008's trigger, on the one table an attempt kept between answer saves is read
from beside those a module page reads (``liboppi.web.quiz.kept_attempts``): the quiz, whose
course its statements name. It changes only when quizzes are imported. SQLite changes
nothing here.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TABLES = ("quizzes",)
FUNCTION = "liboppi_notify_change"  # made by 0008
TRIGGER = "liboppi_notify_change"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
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
