"""The web editor: edit a module with preview, revisions, diff and restore; manage a course.

A save that the checker refuses re-renders the form with status 400 and everything typed;
a save based on an old version gets a 409 page showing both texts, with the typed text
still in the form. Preview works without JavaScript (a button); ``editor-preview.js``
refreshes it while typing.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from markupsafe import Markup
from wtforms import HiddenField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from liboppi.content.problems import Problem
from liboppi.services import editor
from liboppi.services.content_import import site_host_of
from liboppi.services.errors import Invalid

from .database import get_session
from .forms import Form

bp = Blueprint("editor", __name__, url_prefix="/editor")

FIELD_KEYS = ("title", "estimated_minutes", "objectives", "tags", "quiz", "lang")


class ModuleForm(Form):
    """A module's front matter fields, its Markdown body and the save message."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=300)])
    estimated_minutes = StringField(
        _l("Estimated time in minutes"),
        validators=[Optional(), Length(max=10)],
        render_kw={"inputmode": "numeric"},
    )
    objectives = TextAreaField(
        _l("Learning objectives"),
        description=_l("One objective a line."),
        render_kw={"rows": 4},
    )
    tags = StringField(
        _l("Tags"), description=_l("Separated by commas, e.g. koha, lainaus."), validators=[]
    )
    quiz = StringField(_l("Quiz id"), description=_l("Optional: the id of the module's quiz."))
    lang = SelectField(
        _l("Language of the text"),
        choices=[
            SelectChoice("", _l("The course's language")),
            SelectChoice("fi", "suomi", {"lang": "fi"}),
            SelectChoice("sv", "svenska", {"lang": "sv"}),
            SelectChoice("en", "English", {"lang": "en"}),
        ],
        validate_choice=False,
    )
    body = TextAreaField(_l("Text (Markdown)"), render_kw={"rows": 28, "spellcheck": "true"})
    message = StringField(
        _l("What did you change?"),
        description=_l("A short note for the revision history."),
        validators=[Optional(), Length(max=500)],
    )
    base_version = HiddenField()
    preview = SubmitField(_l("Preview"))
    save = SubmitField(_l("Save"))


class NewModuleForm(ModuleForm):
    """A new module: its permanent id as well."""

    module_id = StringField(
        _l("Module id"),
        description=_l(
            "Permanent: lower-case letters a-z, digits and hyphens, e.g. perehdytys-uusi-aihe."
        ),
        validators=[Length(max=100)],
    )
    save = SubmitField(_l("Create the module"))


class ConfirmForm(Form):
    """A button that only needs its CSRF token."""


class RestoreForm(Form):
    base_version = HiddenField()
    message = StringField(_l("Why restore?"), validators=[Optional(), Length(max=500)])


class UploadForm(Form):
    image = FileField(_l("Image"), description=_l("PNG, JPEG, GIF or WebP, at most 2 MB."))


def _settings():
    return current_app.config["LIBOPPI"]


def _quiz_ids() -> set[str]:
    return editor.known_quiz_ids(_settings().quiz_root)


def _site_host() -> str | None:
    return site_host_of(_settings().base_url)


def _fields(form: ModuleForm) -> editor.ModuleFields:
    return editor.ModuleFields(
        title=form.title.data or "",
        estimated_minutes=form.estimated_minutes.data or "",
        objectives=form.objectives.data or "",
        tags=form.tags.data or "",
        quiz=form.quiz.data or "",
        lang=form.lang.data or "",
    )


def _fill(form: ModuleForm, fields: editor.ModuleFields, body: str, version: int) -> None:
    for key in FIELD_KEYS:
        getattr(form, key).data = getattr(fields, key)
    form.body.data = body
    form.base_version.data = str(version)


def _base_version(form: ModuleForm) -> int | None:
    raw = (form.base_version.data or "").strip()
    return int(raw) if raw.isdigit() else None


def _front_matter_key(text: str, line: int) -> str | None:
    """The top-level front matter key written at or above ``line`` of ``text``."""
    lines = text.replace("\r\n", "\n").split("\n")
    for index in range(min(line, len(lines)) - 1, 0, -1):
        candidate = lines[index]
        if candidate and candidate[0] not in " \t-#" and ":" in candidate:
            return candidate.split(":", 1)[0].strip()
    return None


def _problem_rows(problems: list[Problem], body_line: int | None, text: str | None) -> list[dict]:
    """Problems placed for the form: the field they belong to and the body line."""
    rows = []
    for problem in problems:
        where = "general"
        line = None
        if body_line is not None and problem.line >= body_line:
            where = "body"
            line = problem.line - body_line + 1
        elif text is not None and problem.line > 1:
            key = _front_matter_key(text, problem.line)
            if key in FIELD_KEYS:
                where = key
        rows.append(
            {
                "where": where,
                "line": line,
                "col": problem.col,
                "message": problem.message,
                "severity": problem.severity,
            }
        )
    return rows


def _attach(form: ModuleForm, rows: list[dict]) -> None:
    for row in rows:
        if row["severity"] != "error" or row["where"] in ("body", "general"):
            continue
        getattr(form, row["where"]).errors = [*getattr(form, row["where"]).errors, row["message"]]


def _render_edit(
    module: editor.EditorModule,
    form: ModuleForm,
    *,
    preview: editor.Preview | None = None,
    rows: list[dict] | None = None,
    conflict: editor.EditConflict | None = None,
    status: int = 200,
):
    diff = None
    if conflict is not None:
        hunks, added, removed = editor.diff_lines(conflict.current_text, conflict.typed_text)
        diff = {"hunks": hunks, "added": added, "removed": removed}
    return (
        render_template(
            "editor/edit.html",
            module=module,
            form=form,
            preview_html=Markup(preview.html) if preview is not None else None,
            rows=rows or [],
            conflict=conflict,
            diff=diff,
            confirm=ConfirmForm(),
        ),
        status,
    )


@bp.route("/")
@login_required
def index():
    courses = editor.list_courses(get_session(), current_user.principal)
    return render_template("editor/index.html", courses=courses, language=str(get_locale()))


@bp.route("/courses/<course_id>")
@login_required
def course(course_id: str):
    detail = editor.get_course(get_session(), current_user.principal, course_id)
    return render_template(
        "editor/course.html",
        course=detail,
        confirm=ConfirmForm(),
        upload=UploadForm(),
        language=str(get_locale()),
    )


@bp.route("/courses/<course_id>/files", methods=["POST"])
@login_required
def upload(course_id: str):
    session = get_session()
    detail = editor.get_course(session, current_user.principal, course_id)
    form = UploadForm()
    if form.validate_on_submit():
        storage = form.image.data
        data = storage.read(editor.MAX_IMAGE_BYTES + 1) if storage else b""
        try:
            name = editor.upload_image(
                session,
                current_user.principal,
                course_id,
                storage.filename if storage else "",
                data,
            )
        except Invalid as error:
            form.image.errors = [_upload_message(str(error))]
        else:
            session.commit()
            flash(
                _(
                    "The image was saved as %(name)s. Show it with ![description](%(name)s).",
                    name=name,
                ),
                "success",
            )
            return redirect(url_for("editor.course", course_id=course_id))
    return (
        render_template(
            "editor/course.html",
            course=detail,
            confirm=ConfirmForm(),
            upload=form,
            language=str(get_locale()),
        ),
        400,
    )


def _upload_message(code: str) -> str:
    return {
        "empty_file": _("Choose an image file."),
        "image_too_large": _("The image is larger than 2 MB."),
        "not_an_image": _("The file is not a PNG, JPEG, GIF or WebP image."),
    }.get(code, _("The file was not accepted."))


@bp.route("/modules/<module_id>", methods=["GET"])
@login_required
def edit_module(module_id: str):
    module = editor.get_module(get_session(), current_user.principal, module_id)
    form = ModuleForm(formdata=None)
    _fill(form, module.fields, module.body, module.version)
    return _render_edit(module, form)


@bp.route("/modules/<module_id>", methods=["POST"])
@login_required
def save_module(module_id: str):
    session = get_session()
    module = editor.get_module(session, current_user.principal, module_id)
    form = ModuleForm()
    if not form.validate_on_submit():
        return _render_edit(module, form, status=400)
    fields = _fields(form)
    body = form.body.data or ""
    base_version = _base_version(form)
    if base_version is None:
        abort(400)
    if form.preview.data:
        preview = editor.preview_module(
            session,
            current_user.principal,
            module_id,
            fields,
            body,
            base_version=base_version,
            quiz_ids=_quiz_ids(),
            site_host=_site_host(),
        )
        rows = _problem_rows(list(preview.problems), preview.body_line, preview.text)
        _attach(form, rows)
        return _render_edit(module, form, preview=preview, rows=rows)
    try:
        result = editor.save_module(
            session,
            current_user.principal,
            module_id,
            fields,
            body,
            base_version=base_version,
            message=form.message.data or "",
            quiz_ids=_quiz_ids(),
            site_host=_site_host(),
        )
    except editor.EditConflict as conflict:
        session.rollback()
        current = editor.get_module(session, current_user.principal, module_id)
        # The typed text stays in the form; saving again now replaces the newer version
        # knowingly, because the editor has seen it.
        form.base_version.data = str(current.version)
        return _render_edit(current, form, conflict=conflict, status=409)
    except editor.InvalidContent as invalid:
        session.rollback()
        rows = _problem_rows(invalid.problems, invalid.body_line, invalid.text)
        _attach(form, rows)
        return _render_edit(module, form, rows=rows, status=400)
    session.commit()
    if result.changed:
        flash(_("Saved as version %(number)d.", number=result.version), "success")
    else:
        flash(_("Nothing had changed, so no new version was saved."), "info")
    return redirect(url_for("editor.edit_module", module_id=module_id))


@bp.route("/modules/<module_id>/preview", methods=["POST"])
@login_required
def preview_fragment(module_id: str):
    """The preview alone, for editor-preview.js to refresh while the editor types."""
    session = get_session()
    form = ModuleForm()
    if not form.validate_on_submit():
        abort(400)
    preview = editor.preview_module(
        session,
        current_user.principal,
        module_id,
        _fields(form),
        form.body.data or "",
        base_version=_base_version(form),
        quiz_ids=_quiz_ids(),
        site_host=_site_host(),
    )
    rows = _problem_rows(list(preview.problems), preview.body_line, preview.text)
    return render_template("editor/_preview.html", preview_html=Markup(preview.html), rows=rows)


@bp.route("/modules/<module_id>/revisions")
@login_required
def revisions(module_id: str):
    session = get_session()
    module = editor.get_module(session, current_user.principal, module_id)
    rows = editor.list_revisions(session, current_user.principal, module_id)
    return render_template("editor/revisions.html", module=module, revisions=rows)


@bp.route("/modules/<module_id>/diff")
@login_required
def diff(module_id: str):
    session = get_session()
    module = editor.get_module(session, current_user.principal, module_id)
    old = request.args.get("old", type=int)
    new = request.args.get("new", type=int)
    if old is None or new is None:
        abort(400)
    result = editor.diff_versions(session, current_user.principal, module_id, old, new)
    return render_template("editor/diff.html", module=module, diff=result)


@bp.route("/modules/<module_id>/revisions/<int:number>")
@login_required
def revision(module_id: str, number: int):
    session = get_session()
    current = editor.get_module(session, current_user.principal, module_id)
    old = editor.get_module(session, current_user.principal, module_id, version=number)
    form = RestoreForm(formdata=None, base_version=str(current.version))
    return render_template("editor/revision.html", module=current, old=old, form=form)


@bp.route("/modules/<module_id>/revisions/<int:number>/restore", methods=["POST"])
@login_required
def restore(module_id: str, number: int):
    session = get_session()
    form = RestoreForm()
    if not form.validate_on_submit() or not (form.base_version.data or "").isdigit():
        abort(400)
    try:
        result = editor.restore_version(
            session,
            current_user.principal,
            module_id,
            number,
            base_version=int(form.base_version.data),
            message=form.message.data or "",
            site_host=_site_host(),
        )
    except editor.EditConflict:
        session.rollback()
        flash(_("Someone saved this module meanwhile. Check the newest version first."), "error")
        return redirect(url_for("editor.revisions", module_id=module_id), code=303)
    session.commit()
    if result.changed:
        flash(
            _("Version %(old)d restored as version %(new)d.", old=number, new=result.version),
            "success",
        )
    else:
        flash(_("That version is already the current text."), "info")
    return redirect(url_for("editor.edit_module", module_id=module_id))


@bp.route("/courses/<course_id>/modules/new", methods=["GET", "POST"])
@login_required
def new_module(course_id: str):
    session = get_session()
    detail = editor.get_course(session, current_user.principal, course_id)
    form = NewModuleForm()
    rows: list[dict] = []
    if request.method == "GET":
        form = NewModuleForm(formdata=None, module_id=f"{course_id}-")
        form.body.data = "\n## \n\n"
        return render_template("editor/new.html", course=detail, form=form, rows=rows)
    if form.validate_on_submit():
        fields = _fields(form)
        try:
            module_id = editor.create_module(
                session,
                current_user.principal,
                course_id,
                form.module_id.data or "",
                fields,
                form.body.data or "",
                message=form.message.data or "",
                quiz_ids=_quiz_ids(),
                site_host=_site_host(),
            )
        except editor.InvalidContent as invalid:
            session.rollback()
            rows = _problem_rows(invalid.problems, invalid.body_line, invalid.text)
            _attach(form, rows)
        except Invalid as error:
            session.rollback()
            message = {
                "invalid_id": _("Use lower-case letters a-z, digits and hyphens."),
                "id_taken": _("Another module already has this id."),
            }.get(str(error), _("The input was not accepted."))
            form.module_id.errors = [message]
        else:
            session.commit()
            flash(_("The module was created."), "success")
            return redirect(url_for("editor.edit_module", module_id=module_id))
    return render_template("editor/new.html", course=detail, form=form, rows=rows), 400


@bp.route("/modules/<module_id>/move", methods=["POST"])
@login_required
def move(module_id: str):
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    direction = request.form.get("direction")
    if direction not in ("up", "down"):
        abort(400)
    module = editor.get_module(session, current_user.principal, module_id)
    try:
        editor.move_module(
            session, current_user.principal, module_id, -1 if direction == "up" else 1
        )
    except Invalid:
        abort(400)
    session.commit()
    return redirect(url_for("editor.course", course_id=module.course_id) + f"#module-{module_id}")


@bp.route("/modules/<module_id>/archive", methods=["POST"])
@login_required
def archive(module_id: str):
    return _set_archived(module_id, True)


@bp.route("/modules/<module_id>/unarchive", methods=["POST"])
@login_required
def unarchive(module_id: str):
    return _set_archived(module_id, False)


def _set_archived(module_id: str, archived: bool):
    session = get_session()
    if not ConfirmForm().validate_on_submit():
        abort(400)
    module = editor.get_module(session, current_user.principal, module_id)
    try:
        editor.set_archived(session, current_user.principal, module_id, archived)
    except editor.LinkedModule as linked:
        session.rollback()
        flash(
            _(
                "The module was not archived: these modules link to it: %(titles)s. "
                "Remove the links first.",
                titles=", ".join(linked.titles),
            ),
            "error",
        )
        return redirect(url_for("editor.course", course_id=module.course_id))
    except Invalid:
        session.rollback()
        flash(_("Another module in the course uses the same file name."), "error")
        return redirect(url_for("editor.course", course_id=module.course_id))
    session.commit()
    if archived:
        flash(
            _("The module was archived. Learners no longer see it; their progress is kept."),
            "success",
        )
    else:
        flash(_("The module is back in the course."), "success")
    return redirect(url_for("editor.course", course_id=module.course_id))
