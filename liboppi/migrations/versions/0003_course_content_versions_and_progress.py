"""course content, versions and progress

Revision ID: 0003
Revises: 0002

The SQLite full-text index (an FTS5 virtual table, ``module_search``) is not created here:
it is a derived index that liboppi.services.search creates and fills on first use, because
a virtual table and its shadow tables are not models, and the suite checks that a migrated
database holds exactly the model tables. PostgreSQL searches ``module_versions.search_vector``
(a ``tsvector`` with a GIN index), which is a model column and created here.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import liboppi.models.base

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC = liboppi.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "courses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stable_id", sa.String(length=100), nullable=False),
        sa.Column("folder", sa.String(length=200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("title", sa.JSON(), nullable=False),
        sa.Column("description", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("job_roles", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("prerequisites", sa.JSON(), nullable=False),
        sa.Column("completion", sa.String(length=40), nullable=False),
        sa.Column("translation_of", sa.String(length=100), nullable=True),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("imported_hash", sa.String(length=64), nullable=True),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_courses")),
        sa.UniqueConstraint("stable_id", name=op.f("uq_courses_stable_id")),
    )
    op.create_table(
        "course_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("content_type", sa.String(length=50), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_files_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["users.id"],
            name=op.f("fk_course_files_uploaded_by_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_files")),
        sa.UniqueConstraint("course_id", "name", name=op.f("uq_course_files_course_id")),
    )
    op.create_table(
        "course_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("completed_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["courses.id"],
            name=op.f("fk_course_progress_course_id_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_course_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_progress")),
        sa.UniqueConstraint("user_id", "course_id", name=op.f("uq_course_progress_user_id")),
    )
    with op.batch_alter_table("course_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_course_progress_course_id"), ["course_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_course_progress_user_id"), ["user_id"], unique=False)

    # modules.current_version_id → module_versions is a cycle: SQLite takes the forward
    # reference inline; PostgreSQL gets the constraint once module_versions exists.
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    current_version_fk = (
        [
            sa.ForeignKeyConstraint(
                ["current_version_id"],
                ["module_versions.id"],
                name=op.f("fk_modules_current_version_id_module_versions"),
                ondelete="SET NULL",
            )
        ]
        if is_sqlite
        else []
    )
    op.create_table(
        "modules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stable_id", sa.String(length=100), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("is_archived", sa.Boolean(), nullable=False),
        sa.Column("current_version_id", sa.Integer(), nullable=True),
        sa.Column("imported_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.Column("updated_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"], ["courses.id"], name=op.f("fk_modules_course_id_courses")
        ),
        *current_version_fk,
        sa.PrimaryKeyConstraint("id", name=op.f("pk_modules")),
        sa.UniqueConstraint("stable_id", name=op.f("uq_modules_stable_id")),
    )
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.create_index("ix_modules_course_position", ["course_id", "position"], unique=False)

    op.create_table(
        "module_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("raw_text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("estimated_minutes", sa.Integer(), nullable=True),
        sa.Column("objectives", sa.JSON(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("quiz_id", sa.String(length=100), nullable=True),
        sa.Column("language", sa.String(length=5), nullable=False),
        sa.Column("html", sa.Text(), nullable=False),
        sa.Column("toc", sa.JSON(), nullable=False),
        sa.Column("plain_text", sa.Text(), nullable=False),
        sa.Column("word_count", sa.Integer(), nullable=False),
        sa.Column(
            "search_vector",
            sa.Text().with_variant(postgresql.TSVECTOR(), "postgresql"),
            nullable=True,
        ),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("created_at", UTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_module_versions_author_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["modules.id"],
            name=op.f("fk_module_versions_module_id_modules"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_versions")),
        sa.UniqueConstraint("module_id", "number", name=op.f("uq_module_versions_module_id")),
    )
    with op.batch_alter_table("module_versions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_module_versions_quiz_id"), ["quiz_id"], unique=False)
        batch_op.create_index(
            "ix_module_versions_search_vector",
            ["search_vector"],
            unique=False,
            postgresql_using="gin",
        )
    if not is_sqlite:
        op.create_foreign_key(
            op.f("fk_modules_current_version_id_module_versions"),
            "modules",
            "module_versions",
            ["current_version_id"],
            ["id"],
            ondelete="SET NULL",
        )

    op.create_table(
        "module_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("module_id", sa.Integer(), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("viewed_at", UTC(timezone=True), nullable=True),
        sa.Column("last_viewed_at", UTC(timezone=True), nullable=True),
        sa.Column("completed_at", UTC(timezone=True), nullable=True),
        sa.Column("module_version_id", sa.Integer(), nullable=True),
        sa.Column("quiz_passed_at", UTC(timezone=True), nullable=True),
        sa.CheckConstraint(
            "fraction >= 0 AND fraction <= 1", name=op.f("ck_module_progress_fraction_range")
        ),
        sa.ForeignKeyConstraint(
            ["module_id"],
            ["modules.id"],
            name=op.f("fk_module_progress_module_id_modules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["module_version_id"],
            ["module_versions.id"],
            name=op.f("fk_module_progress_module_version_id_module_versions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_module_progress_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_module_progress")),
        sa.UniqueConstraint("user_id", "module_id", name=op.f("uq_module_progress_user_id")),
    )
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_module_progress_module_id"), ["module_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_module_progress_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    is_sqlite = op.get_bind().dialect.name == "sqlite"
    if is_sqlite:
        # The derived full-text index, if search ever created it.
        op.execute("DROP TABLE IF EXISTS module_search")
    else:
        op.drop_constraint(
            op.f("fk_modules_current_version_id_module_versions"), "modules", type_="foreignkey"
        )
    with op.batch_alter_table("module_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_module_progress_user_id"))
        batch_op.drop_index(batch_op.f("ix_module_progress_module_id"))
    op.drop_table("module_progress")
    with op.batch_alter_table("module_versions", schema=None) as batch_op:
        batch_op.drop_index("ix_module_versions_search_vector", postgresql_using="gin")
        batch_op.drop_index(batch_op.f("ix_module_versions_quiz_id"))
    op.drop_table("module_versions")
    with op.batch_alter_table("modules", schema=None) as batch_op:
        batch_op.drop_index("ix_modules_course_position")
    op.drop_table("modules")
    with op.batch_alter_table("course_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_course_progress_user_id"))
        batch_op.drop_index(batch_op.f("ix_course_progress_course_id"))
    op.drop_table("course_progress")
    op.drop_table("course_files")
    op.drop_table("courses")
