"""Quiz pages: intro, questions, summary, result and review, practice, item analysis.

Every page works without JavaScript: answers are plain form posts, saved on the server
whichever button is pressed. ``static/js/quiz-autosave.js`` only adds saving on change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import Connection
from sqlalchemy.orm import Session
from werkzeug.datastructures import MultiDict

from liboppi.content.render import render_markdown
from liboppi.database import ChangeListener
from liboppi.models import AttemptStatus
from liboppi.services import attempts, item_analysis
from liboppi.services.attempts import AttemptView, QuestionForm, QuestionState, Recorder
from liboppi.services.errors import Conflict, NotFound

from . import request_language
from .database import get_session, read_connection
from .login import KeptReads, kept_reads

bp = Blueprint("quiz", __name__, url_prefix="/quizzes")


def recorder() -> Recorder:
    """Where this request's statements are grouped: the instance URL and the UI language."""
    return Recorder(current_app.config["LIBOPPI"].base_url, request_language())


@bp.app_template_filter("quiz_markdown")
def quiz_markdown(text: str | None) -> Markup:
    """Render question Markdown (prompts, feedback) to sanitised HTML."""
    if not text:
        return Markup("")
    return Markup(render_markdown(text, base_url_for_images=None).html)


@bp.app_template_filter("quiz_inline")
def quiz_inline(text: str | None) -> Markup:
    """Render a one-paragraph Markdown text (an option) without its paragraph tags."""
    html = str(quiz_markdown(text)).strip()
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[3:-4]
    return Markup(html)


@bp.app_template_filter("percent")
def percent(value: float | None) -> str:
    """Write a 0–1 share as a whole percentage."""
    return "–" if value is None else f"{round(value * 100)} %"


def messages() -> Mapping[str, str]:
    """Translated service error codes for flashes."""
    return {
        "no_attempts_left": _("You have used all attempts at this quiz."),
        "nothing_to_practise": _("There is nothing to practise in this attempt."),
        "not_submitted": _("This attempt has not been submitted yet."),
        "practice_finished": _("This practice is finished."),
        "practice_is_not_submitted": _("A practice is not submitted."),
    }


# -- Quiz list and intro ------------------------------------------------------------------------


@bp.route("/")
@login_required
def index():
    rows = attempts.list_quizzes(get_session(), current_user.user_id, str(get_locale()))
    return render_template("quiz/index.html", rows=rows)


@bp.route("/<quiz_id>")
@login_required
def intro(quiz_id: str):
    session = get_session()
    overview = attempts.get_overview(session, current_user.user_id, quiz_id, recorder())
    session.commit()
    return render_template("quiz/intro.html", quiz=overview)


@bp.route("/<quiz_id>/start", methods=["POST"])
@login_required
def start(quiz_id: str):
    session = get_session()
    try:
        attempt = attempts.start_attempt(session, current_user.user_id, quiz_id, recorder())
    except Conflict as error:
        session.commit()
        flash(messages().get(str(error), str(error)), "error")
        return redirect(url_for("quiz.intro", quiz_id=quiz_id))
    session.commit()
    return redirect(url_for("quiz.attempt", attempt_id=attempt.id))


# -- Taking an attempt --------------------------------------------------------------------------


def load_open(attempt_id: int) -> AttemptView | Response:
    """Return an open attempt's view, or a redirect to its result when it has closed."""
    opened = open_attempt(attempt_id)
    return opened if isinstance(opened, Response) else opened[1]


def open_attempt(
    attempt_id: int, *, for_save: bool = False
) -> tuple[attempts.Loaded, AttemptView] | Response:
    """Load an open attempt once for this request, with its view; a redirect when closed.

    ``for_save`` (a post that saves answers) takes the attempt's row lock at once and keeps
    the transaction open, so ``save_posted`` saves into what was loaded here.
    """
    session = get_session()
    loaded = attempts.get_loaded(
        session, current_user.user_id, attempt_id, recorder(), lock=for_save
    )
    view = attempts.attempt_view(loaded)
    if not (for_save and view.is_open and not view.is_practice):
        session.commit()
    if view.is_practice:
        abort(404)
    if not view.is_open:
        return redirect(url_for("quiz.result", attempt_id=attempt_id))
    return loaded, view


@bp.route("/attempts/<int:attempt_id>")
@login_required
def attempt(attempt_id: int):
    view = load_open(attempt_id)
    if isinstance(view, Response):
        return view
    if view.settings.layout == "all_on_one_page":
        return redirect(url_for("quiz.all_questions", attempt_id=attempt_id))
    first = view.unanswered[0].number if view.unanswered else 1
    return redirect(url_for("quiz.question", attempt_id=attempt_id, number=first))


def responses_from_form(
    form: MultiDict, questions: Sequence[QuestionState | QuestionForm]
) -> dict[str, Any]:
    """Read the answers of the questions shown on the page from the posted form.

    Every question on the page lists its id in a hidden ``shown`` field, so an unticked
    checkbox group (which sends nothing) clears the saved answer.
    """
    shown = set(form.getlist("shown"))
    responses: dict[str, Any] = {}
    for state in questions:
        if state.id not in shown:
            continue
        name = f"q.{state.id}"
        kind = state.view.get("input")
        if kind == "checkbox":
            responses[state.id] = form.getlist(name)
        elif kind == "matching":
            responses[state.id] = {
                source["id"]: form.get(f"{name}.{source['id']}", "")
                for source in state.view["sources"]
            }
        elif kind == "ordering":
            responses[state.id] = {
                item["id"]: form.get(f"{name}.{item['id']}", "") for item in state.view["items"]
            }
        else:
            responses[state.id] = form.get(name)
    return responses


def save_posted(
    attempt_id: int,
    questions: Sequence[QuestionState],
    loaded: attempts.Loaded | None = None,
    recording: Recorder | None = None,
) -> attempts.SaveOutcome:
    """Save the answers posted for ``questions`` (into ``loaded``, when given) and commit.

    ``recording`` is this request's ``recorder()`` when the caller has made it already.
    """
    session = get_session()
    outcome = attempts.save_answers(
        session,
        current_user.user_id,
        attempt_id,
        responses_from_form(request.form, questions),
        recording or recorder(),
        loaded=loaded,
    )
    session.commit()
    return outcome


def closed_redirect(outcome: attempts.SaveOutcome, attempt_id: int) -> Response | None:
    """Tell the learner why an answer was not saved and go to the result, if so."""
    if outcome.status == "late":
        flash(
            _(
                "The time limit has passed, so this answer was not saved. Your attempt was "
                "submitted with the answers saved before the deadline."
            ),
            "error",
        )
    elif outcome.status == "closed":
        flash(_("This attempt was already submitted, so the answer was not saved."), "error")
    else:
        return None
    return redirect(url_for("quiz.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/questions/<int:number>", methods=["GET", "POST"])
@login_required
def question(attempt_id: int, number: int):
    if request.method == "POST":
        return save_question(attempt_id, number)
    view = load_open(attempt_id)
    if isinstance(view, Response):
        return view
    if not 1 <= number <= len(view.questions):
        abort(404)
    if view.settings.layout == "all_on_one_page":
        return redirect(url_for("quiz.all_questions", attempt_id=attempt_id))
    return render_question_page(view, number)


def save_question(attempt_id: int, number: int):
    """Save the answer posted on one question's page and go where the pressed button leads.

    Only the posted question's view is built (not the whole attempt's). A plain save (one
    changed answer in an open attempt) is read without a transaction and written outside
    the ORM session (``attempts.save_unlocked``); any other save, and one that wrote nothing
    there, loads the attempt once, locked, and saves into it in the same transaction.
    """
    recording = recorder()
    reads = read_connection()
    if attempts.can_save_unlocked(reads):
        done = save_plain(reads, attempt_id, number, recording)
        if done is not None:
            total = len(done.loaded.attempt.question_ids)
            return redirect(target_after_save(attempt_id, done.number, total))
    session = get_session()
    loaded = attempts.get_loaded(session, current_user.user_id, attempt_id, recording, lock=True)
    if loaded.attempt.is_practice:
        session.commit()
        abort(404)
    if loaded.attempt.status is not AttemptStatus.IN_PROGRESS:
        session.commit()
        return redirect(url_for("quiz.result", attempt_id=attempt_id))
    total = len(loaded.attempt.question_ids)
    if not 1 <= number <= total:
        abort(404)
    settings = loaded.settings
    if settings.layout == "all_on_one_page":
        return redirect(url_for("quiz.all_questions", attempt_id=attempt_id))
    current = attempts.question_at(loaded, number)
    outcome = save_posted(attempt_id, [current], loaded, recording)
    closed = closed_redirect(outcome, attempt_id)
    if closed is not None:
        return closed
    if outcome.invalid:
        fresh = attempts.get_attempt(get_session(), current_user.user_id, attempt_id, recording)
        return render_question_page(fresh, number), 400
    immediate = settings.feedback == "immediately"
    if immediate and current.id in outcome.saved and not current.is_final:
        # The feedback of the answer just given shows on the same page.
        return redirect(url_for("quiz.question", attempt_id=attempt_id, number=number))
    return redirect(target_after_save(attempt_id, number, total))


@dataclass(frozen=True)
class PlainSave:
    """A plain save made (``save_plain``): the attempt as saved into, the question's number
    and what was saved."""

    loaded: attempts.Loaded
    number: int
    outcome: attempts.SaveOutcome


def save_plain(
    reads: Connection, attempt_id: int, number: int | None, recorder: Recorder
) -> PlainSave | None:
    """Save the answer posted to question ``number`` as a plain save, or None when it is not
    one (or wrote nothing): then the caller saves under the attempt's lock. ``number`` None
    is the one question the form shows (``shown``), as the autosave script posts it.

    The attempt is read, or taken as this worker kept it after its previous plain save
    (``kept_attempts``): the save is then its one write, whose conditions hold what was kept
    to what the database has now (``attempts.save_unlocked``); when they do not hold, the
    attempt is read again and the save made on that.
    """
    user_id = current_user.user_id
    store, version = kept_attempts()
    key = (KEPT_ATTEMPT, user_id, attempt_id, recorder.base_url, recorder.language)
    kept = store.get(key, version) if store is not None else None
    if kept is not None:
        kept_loaded, recording = kept
        loaded = replace(kept_loaded, answers=dict(kept_loaded.answers))  # kept ones stay
        saved = save_posted_question(None, reads, loaded, number, recorder, recording)
        if saved is not None:
            store.keep(key, version, (loaded, recording))
            return saved
    session = get_session()
    try:
        loaded = attempts.load(session, user_id, attempt_id, connection=reads)
    except NotFound:
        return None  # the locked path answers it
    saved = save_posted_question(session, reads, loaded, number, recorder)
    if saved is None:
        return None
    recording = saved.outcome.recording
    if store is not None and recording is not None and recording.library_id:
        store.keep(key, version, (loaded, recording))
    return saved


#: Kept reads' key of an attempt kept for its next plain save (with its user, attempt id, and
#: the base URL and language its statements were recorded for).
KEPT_ATTEMPT = "quiz attempt"


def kept_attempts() -> tuple[KeptReads | None, int | None]:
    """The kept reads to keep attempts in, and the data version now; (None, None) when none.

    Only on PostgreSQL: a plain save's write is not a commit that changes the data version
    there (answers have no change trigger, and the write bypasses SQLAlchemy's events), so
    an attempt kept after it is still current for the worker's next save. SQLite's data
    version changes with every commit, the save's own too: a kept attempt would never be
    used. What the version stands for here is what the attempt's statements name beside the
    learner: its quiz and course (migrations 0008 and 0009). The attempt's own rows, and the
    learner's origin (public id, home library and its naming), are held to the database by
    the write's conditions instead, as for a fresh read.
    """
    store = kept_reads(current_app)
    if store is None or not isinstance(store.version, ChangeListener):
        return None, None
    return store, store.version.read()


def save_posted_question(
    session: Session | None,
    reads: Connection,
    loaded: attempts.Loaded,
    number: int | None,
    recorder: Recorder,
    kept: attempts.Recording | None = None,
) -> PlainSave | None:
    """Save the answer posted to question ``number`` (None: the one the form shows) with
    ``attempts.save_unlocked``; None when that did not save it. A kept attempt needs no ORM
    session (``session`` None): nothing is read for it."""
    question_ids = loaded.attempt.question_ids
    if number is None:
        shown = request.form.getlist("shown")
        if len(shown) != 1 or shown[0] not in question_ids:
            return None
        number = question_ids.index(shown[0]) + 1
    if not 1 <= number <= len(question_ids) or loaded.settings.layout == "all_on_one_page":
        return None
    responses = responses_from_form(request.form, [attempts.question_form_at(loaded, number)])
    outcome = attempts.save_unlocked(
        session,
        reads,
        loaded,
        responses,
        recorder,
        kept=kept,
        synchronous_commit=current_app.config["LIBOPPI"].answer_commit_synchronous,
    )
    return None if outcome is None else PlainSave(loaded, number, outcome)


def target_after_save(attempt_id: int, number: int, total: int) -> str:
    """Return where the pressed button leads: previous, next, summary or the same page."""
    go = request.form.get("go", "next")
    if go == "previous" and number > 1:
        return url_for("quiz.question", attempt_id=attempt_id, number=number - 1)
    if go == "next" and number < total:
        return url_for("quiz.question", attempt_id=attempt_id, number=number + 1)
    if go == "stay":
        return url_for("quiz.question", attempt_id=attempt_id, number=number)
    if go.isdigit() and 1 <= int(go) <= total:
        return url_for("quiz.question", attempt_id=attempt_id, number=int(go))
    return url_for("quiz.summary", attempt_id=attempt_id)


def render_question_page(view: AttemptView, number: int) -> str:
    return render_template(
        "quiz/question.html",
        attempt=view,
        questions=[view.questions[number - 1]],
        number=number,
        action=url_for("quiz.question", attempt_id=view.attempt_id, number=number),
    )


@bp.route("/attempts/<int:attempt_id>/all", methods=["GET", "POST"])
@login_required
def all_questions(attempt_id: int):
    opened = open_attempt(attempt_id, for_save=request.method == "POST")
    if isinstance(opened, Response):
        return opened
    loaded, view = opened
    if request.method == "GET":
        return render_all_page(view)
    outcome = save_posted(attempt_id, view.questions, loaded)
    closed = closed_redirect(outcome, attempt_id)
    if closed is not None:
        return closed
    if outcome.invalid:
        fresh = attempts.get_attempt(get_session(), current_user.user_id, attempt_id, recorder())
        return render_all_page(fresh), 400
    if request.form.get("go") == "stay" or (
        view.settings.feedback == "immediately" and outcome.saved
    ):
        return redirect(url_for("quiz.all_questions", attempt_id=attempt_id))
    return redirect(url_for("quiz.summary", attempt_id=attempt_id))


def render_all_page(view: AttemptView) -> str:
    return render_template(
        "quiz/question.html",
        attempt=view,
        questions=list(view.questions),
        number=None,
        action=url_for("quiz.all_questions", attempt_id=view.attempt_id),
    )


@bp.route("/attempts/<int:attempt_id>/autosave", methods=["POST"])
@login_required
def autosave(attempt_id: int):
    """Save answers sent by the autosave script; the reply says only what was saved.

    The script posts the page's form: on a page of one question, a plain save as the
    question's own form makes (``save_plain``); anything else under the attempt's lock."""
    reads = read_connection()
    if attempts.can_save_unlocked(reads):
        done = save_plain(reads, attempt_id, None, recorder())
        if done is not None:
            return autosaved(done.outcome)
    opened = open_attempt(attempt_id, for_save=True)
    if isinstance(opened, Response):
        return jsonify(status="closed", redirect=url_for("quiz.result", attempt_id=attempt_id))
    loaded, view = opened
    if view.settings.feedback == "immediately":
        # An answer given with immediate feedback is final: only an explicit post saves it.
        get_session().commit()
        return jsonify(status="refused"), 409
    outcome = save_posted(attempt_id, view.questions, loaded)
    if outcome.status != "saved":
        return jsonify(
            status=outcome.status, redirect=url_for("quiz.result", attempt_id=attempt_id)
        )
    return autosaved(outcome)


def autosaved(outcome: attempts.SaveOutcome) -> Response:
    """The autosave script's reply to a save made: what was saved, never whether right."""
    return jsonify(
        status="saved",
        saved=list(outcome.saved),
        invalid=list(outcome.invalid),
        saved_at=outcome.saved_at.isoformat() if outcome.saved_at else None,
    )


@bp.route("/attempts/<int:attempt_id>/summary")
@login_required
def summary(attempt_id: int):
    view = load_open(attempt_id)
    if isinstance(view, Response):
        return view
    return render_template("quiz/summary.html", attempt=view)


@bp.route("/attempts/<int:attempt_id>/submit", methods=["POST"])
@login_required
def submit(attempt_id: int):
    session = get_session()
    try:
        attempts.submit_attempt(session, current_user.user_id, attempt_id, recorder())
    except Conflict:
        abort(404)
    session.commit()
    return redirect(url_for("quiz.result", attempt_id=attempt_id))


@bp.route("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    session = get_session()
    try:
        view = attempts.get_result(session, current_user.user_id, attempt_id, recorder())
    except Conflict:
        session.commit()
        return redirect(url_for("quiz.attempt", attempt_id=attempt_id))
    session.commit()
    return render_template("quiz/result.html", result=view)


# -- Practice -----------------------------------------------------------------------------------


@bp.route("/attempts/<int:attempt_id>/practice", methods=["POST"])
@login_required
def start_practice(attempt_id: int):
    session = get_session()
    try:
        practice = attempts.start_practice(session, current_user.user_id, attempt_id)
    except Conflict as error:
        flash(messages().get(str(error), str(error)), "error")
        return redirect(url_for("quiz.result", attempt_id=attempt_id))
    session.commit()
    return redirect(url_for("quiz.practice", practice_id=practice.id))


@bp.route("/practice/<int:practice_id>", methods=["GET", "POST"])
@login_required
def practice(practice_id: int):
    session = get_session()
    if request.method == "POST":
        question_id = request.form.get("question", "")
        current = attempts.get_practice(session, current_user.user_id, practice_id)
        states = [current.current] if current.current and current.current.id == question_id else []
        responses = responses_from_form(request.form, states)
        if not states or question_id not in responses:
            return redirect(url_for("quiz.practice", practice_id=practice_id))
        try:
            attempts.answer_practice(
                session, current_user.user_id, practice_id, question_id, responses[question_id]
            )
        except Conflict:
            return redirect(url_for("quiz.practice", practice_id=practice_id))
        session.commit()
        return redirect(url_for("quiz.practice", practice_id=practice_id, last=question_id))
    view = attempts.get_practice(
        session, current_user.user_id, practice_id, last_question_id=request.args.get("last")
    )
    return render_template("quiz/practice.html", practice=view)


# -- Item analysis ------------------------------------------------------------------------------


def requested_version() -> int | None:
    raw = request.args.get("version", "")
    if not raw:
        return None
    if not raw.isdigit():
        abort(404)
    return int(raw)


@bp.route("/<quiz_id>/item-analysis")
@login_required
def analysis(quiz_id: str):
    result = item_analysis.analyse(
        get_session(), current_user.principal, quiz_id, version=requested_version()
    )
    return render_template("quiz/item_analysis.html", analysis=result)


@bp.route("/<quiz_id>/item-analysis.csv")
@login_required
def analysis_csv(quiz_id: str):
    version = requested_version()
    result = item_analysis.analyse(get_session(), current_user.principal, quiz_id, version=version)
    name = f"{quiz_id}-item-analysis{f'-v{version}' if version else ''}.csv"
    return Response(
        item_analysis.to_csv(result),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
