"""quizzes, questions, attempts and answers

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import liboppi.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC = liboppi.models.base.UTCDateTime(timezone=True)
OPEN = sa.text("status = 'in_progress'")


def upgrade() -> None:
    op.create_table(
        "quizzes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stable_id", sa.String(length=100), nullable=False),
        sa.Column("course_id", sa.String(length=100), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quizzes")),
        sa.UniqueConstraint("stable_id", name=op.f("uq_quizzes_stable_id")),
    )
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_quizzes_course_id"), ["course_id"], unique=False)

    op.create_table(
        "quiz_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("source_path", sa.String(length=500), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("intro", sa.Text(), nullable=False),
        sa.Column("settings", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("questions", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("imported_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_versions_quiz_id_quizzes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_versions")),
        sa.UniqueConstraint("quiz_id", "number", name=op.f("uq_quiz_versions_quiz_id")),
    )

    op.create_table(
        "quiz_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("quiz_id", sa.Integer(), nullable=False),
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.String(length=32), nullable=False),
        sa.Column("question_ids", sa.JSON(none_as_null=True), nullable=False),
        sa.Column("option_orders", sa.JSON(none_as_null=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum("in_progress", "submitted", name="attemptstatus", native_enum=False, length=12),
            nullable=False,
        ),
        sa.Column("started_at", UTC, nullable=False),
        sa.Column("deadline_at", UTC, nullable=True),
        sa.Column("submitted_at", UTC, nullable=True),
        sa.Column("is_auto_submitted", sa.Boolean(), nullable=False),
        sa.Column("score_raw", sa.Float(), nullable=True),
        sa.Column("score_max", sa.Float(), nullable=True),
        sa.Column("score_scaled", sa.Float(), nullable=True),
        sa.Column("has_passed", sa.Boolean(), nullable=True),
        sa.Column("pass_mark", sa.Float(), nullable=False),
        sa.Column("registration", sa.String(length=36), nullable=False),
        sa.Column("is_practice", sa.Boolean(), nullable=False),
        sa.Column("practice_of_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["practice_of_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_attempts_practice_of_id_quiz_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["quiz_id"], ["quizzes.id"], name=op.f("fk_quiz_attempts_quiz_id_quizzes")
        ),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_attempts_quiz_version_id_quiz_versions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_quiz_attempts_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_attempts")),
        sa.UniqueConstraint("registration", name=op.f("uq_quiz_attempts_registration")),
    )
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_quiz_attempts_quiz_status",
            ["quiz_id", "status", "is_practice", "user_id"],
            unique=False,
        )
        batch_op.create_index("ix_quiz_attempts_user_quiz", ["user_id", "quiz_id"], unique=False)
        batch_op.create_index(
            "uq_quiz_attempts_one_open",
            ["user_id", "quiz_id", "is_practice"],
            unique=True,
            sqlite_where=OPEN,
            postgresql_where=OPEN,
        )

    op.create_table(
        "quiz_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=100), nullable=False),
        sa.Column("response", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("canonical", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("is_valid", sa.Boolean(), nullable=False),
        sa.Column("saved_at", UTC, nullable=False),
        sa.Column("first_saved_at", UTC, nullable=False),
        sa.Column("seconds_spent", sa.Float(), nullable=True),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("is_correct", sa.Boolean(), nullable=True),
        sa.Column("is_final", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["quiz_attempts.id"],
            name=op.f("fk_quiz_answers_attempt_id_quiz_attempts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_answers")),
        sa.UniqueConstraint("attempt_id", "question_id", name=op.f("uq_quiz_answers_attempt_id")),
    )

    op.create_table(
        "quiz_version_stats",
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Integer(), nullable=False),
        sa.Column("sum_scaled", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_version_stats_quiz_version_id_quiz_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quiz_version_id", name=op.f("pk_quiz_version_stats")),
    )
    op.create_table(
        "quiz_item_stats",
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=100), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("graded", sa.Integer(), nullable=False),
        sa.Column("answered", sa.Integer(), nullable=False),
        sa.Column("sum_x", sa.Float(), nullable=False),
        sa.Column("sum_xx", sa.Float(), nullable=False),
        sa.Column("sum_y", sa.Float(), nullable=False),
        sa.Column("sum_yy", sa.Float(), nullable=False),
        sa.Column("sum_xy", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_item_stats_quiz_version_id_quiz_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("quiz_version_id", "question_id", name=op.f("pk_quiz_item_stats")),
    )
    op.create_table(
        "quiz_item_counts",
        sa.Column("quiz_version_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["quiz_version_id"],
            ["quiz_versions.id"],
            name=op.f("fk_quiz_item_counts_quiz_version_id_quiz_versions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "quiz_version_id", "question_id", "kind", "key", name=op.f("pk_quiz_item_counts")
        ),
    )


def downgrade() -> None:
    op.drop_table("quiz_item_counts")
    op.drop_table("quiz_item_stats")
    op.drop_table("quiz_version_stats")
    op.drop_table("quiz_answers")
    with op.batch_alter_table("quiz_attempts", schema=None) as batch_op:
        batch_op.drop_index("uq_quiz_attempts_one_open")
        batch_op.drop_index("ix_quiz_attempts_user_quiz")
        batch_op.drop_index("ix_quiz_attempts_quiz_status")
    op.drop_table("quiz_attempts")
    op.drop_table("quiz_versions")
    with op.batch_alter_table("quizzes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_quizzes_course_id"))
    op.drop_table("quizzes")
