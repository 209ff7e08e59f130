"""Item analysis of a quiz for editors and coordinators, from running counters.

Per question: facility (the mean score, 0–1: the share answered correctly, partial credit
counting in part), discrimination (the corrected point-biserial correlation between the
question's score and the rest of the attempt's points), the distribution of the options
chosen (or of the most common typed answers), the median time to the first answer, and
the number of attempts that held the question. Per quiz: attempts, people, mean score,
pass rate and the score distribution in ten bands.

Grading an attempt adds it to running counters (``record_graded``, in the same
transaction): sums for the correlation, counts of options and answers, a histogram of
whole seconds for the median, and score bands. The page then reads a few aggregated rows
per question instead of every attempt, so it stays fast at 100,000 attempts; only the
number of people is counted from the attempts, through a covering index. ``rebuild``
recounts a quiz from its attempts, should the counters ever need it.

The region sees aggregates only and none over fewer than ``MIN_PEOPLE`` people
(DOMAIN.md), so below that nothing is shown to anyone but admins.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from liboppi.models import (
    Answer,
    Attempt,
    AttemptStatus,
    ItemCount,
    ItemStat,
    QuizVersion,
    VersionStat,
)
from liboppi.quiz import order
from liboppi.quiz.grading import grade
from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question

from .authz import Action, Principal, require
from .errors import NotFound
from .quiz_import import get_quiz, quiz_source

MIN_PEOPLE = 5
BANDS = 10
TOP_RESPONSES = 10
KEY_LENGTH = 200
#: The question id under which score bands are counted.
WHOLE_QUIZ = ""
EMPTY = (None, "", [], {})


@dataclass(frozen=True, slots=True)
class OptionCount:
    """How many answers chose one option (or gave one typed answer)."""

    id: str
    text: str
    count: int
    share: float
    is_correct: bool | None = None


@dataclass(frozen=True, slots=True)
class QuestionStats:
    """The numbers of one question."""

    number: int
    id: str
    type: str
    prompt: str
    attempts: int
    answered: int
    facility: float | None
    discrimination: float | None
    median_seconds: float | None
    options: tuple[OptionCount, ...]
    other_count: int = 0


@dataclass(frozen=True, slots=True)
class Band:
    """The number of attempts whose score lies in [low, high) (the last band includes 1)."""

    low: float
    high: float
    count: int


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    """The item analysis of one quiz (all versions, or one)."""

    quiz_id: str
    title: str
    version: int | None
    versions: tuple[int, ...]
    attempts: int
    people: int
    mean_scaled: float | None
    pass_rate: float | None
    bands: tuple[Band, ...]
    questions: tuple[QuestionStats, ...]
    is_suppressed: bool

    @property
    def max_band_count(self) -> int:
        return max((band.count for band in self.bands), default=0)


# -- Counting ----------------------------------------------------------------------------------


def band_of(scaled: float) -> int:
    """Return the tenth of the score range a scaled score falls in (1.0 in the top band)."""
    return min(BANDS - 1, max(0, int(math.floor(scaled * BANDS + 1e-9))))


def count_keys(question: Question, answer: Answer) -> list[tuple[str, str]]:
    """Return the (kind, key) counts one answer adds: options chosen, typed text or result."""
    canonical = answer.canonical
    if canonical in EMPTY:
        return []
    kind = question.type
    if kind == "multiple":
        return [("option", str(option_id)) for option_id in canonical]
    if kind == "truefalse":
        return [("option", "true" if canonical else "false")]
    if kind in ("single", "likert"):
        return [("option", str(canonical))]
    if kind in ("matching", "ordering"):
        if answer.is_correct:
            return [("result", "right")]
        return [("result", "partly" if (answer.score or 0) > 0 else "wrong")]
    return [("response", str(canonical)[:KEY_LENGTH])]


def is_answered(answer: Answer | None) -> bool:
    """Tell whether an answer row gives an answer (an unreadable one counts as given)."""
    if answer is None or answer.response is None:
        return False
    return not answer.is_valid or answer.canonical not in EMPTY


STAT_COLUMNS = ("attempts", "graded", "answered", "sum_x", "sum_xx", "sum_y", "sum_yy", "sum_xy")
#: Rows per counter upsert: well under SQLite's limit of bound parameters in one statement.
UPSERT_ROWS = 500


@dataclass(slots=True)
class Tally:
    """Counter increments gathered from graded attempts, written with one upsert per table."""

    versions: dict[int, list[float]] = field(default_factory=dict)
    stats: dict[tuple[int, str], list[float]] = field(default_factory=dict)
    counts: dict[tuple[int, str, str, str], int] = field(default_factory=dict)

    def count(self, version_id: int, question_id: str, kind: str, key: str) -> None:
        slot = (version_id, question_id, kind, key)
        self.counts[slot] = self.counts.get(slot, 0) + 1

    def add(
        self, attempt: Attempt, questions: Sequence[Question], answers: Mapping[str, Answer]
    ) -> None:
        """Add one graded attempt; ``answers`` holds its graded row for every question."""
        version_id = attempt.quiz_version_id
        total = attempt.score_raw or 0.0
        summary = self.versions.setdefault(version_id, [0, 0, 0.0])
        summary[0] += 1
        summary[1] += int(bool(attempt.has_passed))
        summary[2] += attempt.score_scaled or 0.0
        for question in questions:
            answer = answers.get(question.id)
            sums = self.stats.setdefault((version_id, question.id), [0.0] * len(STAT_COLUMNS))
            sums[0] += 1
            sums[2] += int(is_answered(answer))
            x = answer.score if answer is not None else None
            if x is not None:
                y = total - x * question.points
                sums[1] += 1
                for index, value in zip(range(3, 8), (x, x * x, y, y * y, x * y), strict=True):
                    sums[index] += value
            if answer is None:
                continue
            for kind, key in count_keys(question, answer):
                self.count(version_id, question.id, kind, key)
            if answer.seconds_spent is not None:
                self.count(version_id, question.id, "seconds", str(round(answer.seconds_spent)))
        self.count(version_id, WHOLE_QUIZ, "band", str(band_of(attempt.score_scaled or 0.0)))

    def write(self, session: Session) -> None:
        """Add the gathered increments to the counter tables."""
        add_up(
            session,
            VersionStat,
            [
                {"quiz_version_id": v, "attempts": n, "passed": p, "sum_scaled": total}
                for v, (n, p, total) in self.versions.items()
            ],
            keys=("quiz_version_id",),
        )
        add_up(
            session,
            ItemStat,
            [
                {
                    "quiz_version_id": v,
                    "question_id": q,
                    **dict(zip(STAT_COLUMNS, sums, strict=True)),
                    **{name: int(sums[index]) for index, name in enumerate(STAT_COLUMNS[:3])},
                }
                for (v, q), sums in self.stats.items()
            ],
            keys=("quiz_version_id", "question_id"),
        )
        add_up(
            session,
            ItemCount,
            [
                {"quiz_version_id": v, "question_id": q, "kind": kind, "key": key, "count": n}
                for (v, q, kind, key), n in self.counts.items()
            ],
            keys=("quiz_version_id", "question_id", "kind", "key"),
        )


def record_graded(
    session: Session, attempt: Attempt, questions: Sequence[Question], answers: Mapping[str, Answer]
) -> None:
    """Add a graded attempt to its version's counters, in the caller's transaction."""
    tally = Tally()
    tally.add(attempt, questions, answers)
    tally.write(session)


def add_up(
    session: Session, model: type, rows: list[dict[str, Any]], *, keys: Sequence[str]
) -> None:
    """Insert counter rows, or add their values to the rows already there.

    Rows are sorted by key so concurrent submits lock counter rows in the same order.
    """
    if not rows:
        return
    rows = sorted(rows, key=lambda row: tuple(row[key] for key in keys))
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = model.__table__  # type: ignore[attr-defined]
    for start in range(0, len(rows), UPSERT_ROWS):
        statement = insert(model).values(rows[start : start + UPSERT_ROWS])
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={
                name: table.c[name] + statement.excluded[name]
                for name in rows[0]
                if name not in keys
            },
        )
        session.execute(statement)


def rebuild(session: Session, principal: Principal, quiz_id: str) -> int:
    """Recount a quiz's counters from its graded attempts; return how many were counted."""
    require(principal, Action.VIEW_ITEM_ANALYSIS)
    quiz = get_quiz(session, quiz_id)
    versions = {
        version.id: quiz_source(quiz, version)
        for version in session.scalars(select(QuizVersion).where(QuizVersion.quiz_id == quiz.id))
    }
    for model in (VersionStat, ItemStat, ItemCount):
        session.execute(delete(model).where(model.quiz_version_id.in_(list(versions))))
    attempt_ids = list(
        session.scalars(
            select(Attempt.id)
            .where(
                Attempt.quiz_id == quiz.id,
                Attempt.status == AttemptStatus.SUBMITTED,
                Attempt.is_practice.is_(False),
            )
            .order_by(Attempt.id)
        )
    )
    tally = Tally()
    for start in range(0, len(attempt_ids), 1000):
        chunk = attempt_ids[start : start + 1000]
        answers: dict[int, dict[str, Answer]] = {}
        rows = session.scalars(select(Answer).where(Answer.attempt_id.in_(chunk))).all()
        for answer in rows:
            answers.setdefault(answer.attempt_id, {})[answer.question_id] = answer
        graded = session.scalars(select(Attempt).where(Attempt.id.in_(chunk))).all()
        for attempt in graded:
            source = versions[attempt.quiz_version_id]
            questions = [source.get_question(question_id) for question_id in attempt.question_ids]
            tally.add(attempt, questions, answers.get(attempt.id, {}))
        # Only counted: keep memory flat however many attempts the quiz has.
        for row in [*rows, *graded]:
            session.expunge(row)
    tally.write(session)
    return len(attempt_ids)


# -- Reading ------------------------------------------------------------------------------------


def analyse(
    session: Session, principal: Principal, quiz_id: str, *, version: int | None = None
) -> ItemAnalysis:
    """Return the item analysis of a quiz; ``version`` limits it to one version number.

    Questions are listed as in the chosen version (the current one when none is chosen);
    with all versions, the numbers of a question id are pooled across versions.
    """
    require(principal, Action.VIEW_ITEM_ANALYSIS)
    quiz = get_quiz(session, quiz_id)
    versions = {
        row.number: row
        for row in session.scalars(select(QuizVersion).where(QuizVersion.quiz_id == quiz.id))
    }
    if version is not None and version not in versions:
        raise NotFound("version")
    shown = versions[version if version is not None else quiz.current_version]
    source = quiz_source(quiz, shown)
    version_ids = [shown.id] if version is not None else [row.id for row in versions.values()]
    totals = session.execute(
        select(
            func.sum(VersionStat.attempts),
            func.sum(VersionStat.passed),
            func.sum(VersionStat.sum_scaled),
        ).where(VersionStat.quiz_version_id.in_(version_ids))
    ).one()
    attempts = int(totals[0] or 0)
    people = session.scalar(
        select(func.count(func.distinct(Attempt.user_id))).where(
            Attempt.quiz_id == quiz.id,
            Attempt.status == AttemptStatus.SUBMITTED,
            Attempt.is_practice.is_(False),
            Attempt.quiz_version_id.in_(version_ids),
        )
    )
    people = int(people or 0)
    is_suppressed = people < MIN_PEOPLE and not principal.is_admin
    base = {
        "quiz_id": quiz.stable_id,
        "title": source.title,
        "version": version,
        "versions": tuple(sorted(versions)),
    }
    if is_suppressed or attempts == 0:
        return ItemAnalysis(
            **base,
            attempts=0 if is_suppressed else attempts,
            people=0 if is_suppressed else people,
            mean_scaled=None,
            pass_rate=None,
            bands=tuple(Band(n / BANDS, (n + 1) / BANDS, 0) for n in range(BANDS)),
            questions=tuple(
                question_stats(number, question, None, {})
                for number, question in enumerate(source.questions, 1)
            ),
            is_suppressed=is_suppressed,
        )
    sums = question_sums(session, version_ids)
    counts = item_counts(session, version_ids)
    band_counts = counts.get(WHOLE_QUIZ, {}).get("band", {})
    return ItemAnalysis(
        **base,
        attempts=attempts,
        people=people,
        mean_scaled=float(totals[2] or 0.0) / attempts,
        pass_rate=int(totals[1] or 0) / attempts,
        bands=tuple(
            Band(n / BANDS, (n + 1) / BANDS, band_counts.get(str(n), 0)) for n in range(BANDS)
        ),
        questions=tuple(
            question_stats(number, question, sums.get(question.id), counts.get(question.id, {}))
            for number, question in enumerate(source.questions, 1)
        ),
        is_suppressed=False,
    )


def question_sums(session: Session, version_ids: Sequence[int]) -> dict[str, dict[str, float]]:
    """Return the counters of every question, summed over the versions."""
    columns = STAT_COLUMNS
    rows = session.execute(
        select(ItemStat.question_id, *(func.sum(getattr(ItemStat, name)) for name in columns))
        .where(ItemStat.quiz_version_id.in_(version_ids))
        .group_by(ItemStat.question_id)
    )
    return {
        row[0]: {name: float(value or 0) for name, value in zip(columns, row[1:], strict=True)}
        for row in rows
    }


def item_counts(
    session: Session, version_ids: Sequence[int]
) -> dict[str, dict[str, dict[str, int]]]:
    """Return question id → kind → key → count, summed over the versions."""
    rows = session.execute(
        select(ItemCount.question_id, ItemCount.kind, ItemCount.key, func.sum(ItemCount.count))
        .where(ItemCount.quiz_version_id.in_(version_ids))
        .group_by(ItemCount.question_id, ItemCount.kind, ItemCount.key)
    )
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for question_id, kind, key, count in rows:
        counts.setdefault(question_id, {}).setdefault(kind, {})[key] = int(count or 0)
    return counts


def question_stats(
    number: int,
    question: Question,
    sums: Mapping[str, float] | None,
    counts: Mapping[str, Mapping[str, int]],
) -> QuestionStats:
    """Turn a question's summed counters into its statistics."""
    if sums is None:
        return QuestionStats(
            number=number,
            id=question.id,
            type=question.type,
            prompt=question.prompt,
            attempts=0,
            answered=0,
            facility=None,
            discrimination=None,
            median_seconds=None,
            options=(),
        )
    graded = sums["graded"]
    answered = int(sums["answered"])
    options, other = distribution(question, counts, answered)
    return QuestionStats(
        number=number,
        id=question.id,
        type=question.type,
        prompt=question.prompt,
        attempts=int(sums["attempts"]),
        answered=answered,
        facility=sums["sum_x"] / graded if graded else None,
        discrimination=point_biserial(
            graded, sums["sum_x"], sums["sum_xx"], sums["sum_y"], sums["sum_yy"], sums["sum_xy"]
        ),
        median_seconds=median_of_histogram(counts.get("seconds", {})),
        options=options,
        other_count=other,
    )


def median_of_histogram(histogram: Mapping[str, int]) -> float | None:
    """Return the median of whole-second counts (the mean of the two middle values if even)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    wanted = sorted({(total + 1) // 2, (total + 2) // 2})
    found: list[float] = []
    seen = 0
    for seconds, count in sorted((float(key), count) for key, count in histogram.items()):
        seen += count
        while wanted and wanted[0] <= seen:
            found.append(seconds)
            wanted.pop(0)
    if len(found) == 1:
        return found[0]
    return sum(found) / len(found)


def point_biserial(
    n: float, sx: float, sxx: float, sy: float, syy: float, sxy: float
) -> float | None:
    """Return Pearson's r from sums; None when either side does not vary."""
    if n < 2:
        return None
    covariance = n * sxy - sx * sy
    spread_x = n * sxx - sx * sx
    spread_y = n * syy - sy * sy
    if spread_x <= 1e-9 * max(1.0, n * sxx) or spread_y <= 1e-9 * max(1.0, n * syy):
        return None
    return covariance / math.sqrt(spread_x * spread_y)


def distribution(
    question: Question, counts: Mapping[str, Mapping[str, int]], answered: int
) -> tuple[tuple[OptionCount, ...], int]:
    """Return the options with their counts (or the commonest answers) and the rest's count."""

    def share(count: int) -> float:
        return count / answered if answered else 0.0

    if question.type in ("single", "multiple", "truefalse", "likert"):
        chosen = counts.get("option", {})
        question_type = get_question_type(question.type)
        view = question_type.public_view(
            question, option_order=order.option_order(question, 0, shuffle=False)
        )
        if question.type == "truefalse":
            answer = question.data.answer
            options = [("true", "true", answer is True), ("false", "false", answer is False)]
        elif question.type == "likert":
            options = [(point["id"], point["text"], None) for point in view["scale"]]
        else:
            correct = set(question.data.correct_ids)
            options = [
                (option.id, option.text, option.id in correct) for option in question.data.options
            ]
        return (
            tuple(
                OptionCount(key, text, chosen.get(key, 0), share(chosen.get(key, 0)), is_correct)
                for key, text, is_correct in options
            ),
            0,
        )
    if question.type in ("matching", "ordering"):
        results = counts.get("result", {})
        return (
            tuple(
                OptionCount(
                    key, key, results.get(key, 0), share(results.get(key, 0)), key == "right"
                )
                for key in ("right", "partly", "wrong")
            ),
            0,
        )
    responses = sorted(counts.get("response", {}).items(), key=lambda item: (-item[1], item[0]))
    listed = tuple(
        OptionCount(text, text, count, share(count), grade(question, text).is_correct)
        for text, count in responses[:TOP_RESPONSES]
    )
    return listed, sum(count for _text, count in responses[TOP_RESPONSES:])


# -- CSV --------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "number",
    "question_id",
    "type",
    "attempts",
    "answered",
    "facility",
    "discrimination",
    "median_seconds",
    "options",
)


def to_csv(analysis: ItemAnalysis) -> str:
    """Write the per-question numbers as CSV (one row per question; options as id=count)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for stats in analysis.questions:
        writer.writerow(
            (
                stats.number,
                stats.id,
                stats.type,
                stats.attempts,
                stats.answered,
                number_text(stats.facility),
                number_text(stats.discrimination),
                number_text(stats.median_seconds),
                "; ".join(f"{option.text}={option.count}" for option in stats.options),
            )
        )
    return out.getvalue()


def number_text(value: float | None) -> str:
    """Write a statistic with three decimals, or nothing when there is none."""
    return "" if value is None else f"{value:.3f}"
