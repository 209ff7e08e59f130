"""Build the xAPI 1.0.3 statements Liboppi sends, and serialise them once for the outbox.

Every builder takes plain values and returns a :class:`Statement` whose ``id`` and
``timestamp`` are fixed when the event happens (``id_factory`` and ``clock`` are arguments so
tests are deterministic). :func:`serialise` turns it into the exact bytes that the outbox
stores and every resend sends.

The actor is always an account on the instance (``homePage`` = base URL, ``name`` = the
user's opaque id), never an email. Activity ids are permanent IRIs built from stable content
ids (see :class:`~liboppi.xapi.vocabulary.Iris`). The context groups every statement by
library (``contextActivities.grouping``), and by learning plan where one applies.
"""

from __future__ import annotations

import copy
import functools
import json
import math
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from liboppi.xapi import vocabulary as v

Clock = Callable[[], datetime]
IdFactory = Callable[[], uuid.UUID | str]
#: A name or description: a plain string (in Finnish) or a map of language tag to text.
LangText = str | Mapping[str, str]
#: A duration: a timedelta, or a number of seconds.
DurationValue = timedelta | int | float


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Library:
    """A library (kirjasto) as statements describe it: stable id, name and where it is."""

    id: str
    name: LangText
    municipality: str
    region: str


@dataclass(frozen=True, slots=True)
class Origin:
    """Who did something, in which instance, for which library, and in which UI language."""

    base_url: str
    user_id: str
    library: Library
    language: str = v.DEFAULT_LANGUAGE

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", v.normalise_base_url(self.base_url))
        _require_text(self.user_id, "user_id")
        if not v.is_language_tag(self.language):
            raise ValueError(
                f"language must be an RFC 5646 tag like 'fi' or 'fi-FI', got {self.language!r}"
            )

    def key(self) -> tuple[Any, ...]:
        """Everything a statement takes from the origin, as a hashable value (for caches)."""
        library = self.library
        return (
            self.base_url,
            self.user_id,
            self.language,
            library.id,
            _frozen(library.name),
            library.municipality,
            library.region,
        )


@dataclass(frozen=True, slots=True)
class Content:
    """A course, module, quiz, survey, event, observation or plan: stable id and its names."""

    id: str
    name: LangText
    description: LangText | None = None

    def key(self) -> tuple[Any, ...]:
        """The content as a hashable value (for caches)."""
        return (self.id, _frozen(self.name), _frozen(self.description))


@dataclass(frozen=True, slots=True)
class PlanLink:
    """The learning plan (oppimissuunnitelma) an event belongs to.

    ``serves_item`` says that the event fulfils one item of the plan: the plan is then also
    the statement's ``parent``, not only its ``grouping``.
    """

    id: str
    name: LangText | None = None
    serves_item: bool = False


@dataclass(frozen=True, slots=True)
class Question:
    """A question (or survey item) as a cmi.interaction activity.

    ``interaction`` comes from the quiz layer: ``interactionType`` plus, as the type allows,
    ``correctResponsesPattern`` and the component lists ``choices``, ``scale``, ``source``,
    ``target`` or ``steps`` (each a list of ``{"id": ..., "description": LangText}``).
    """

    id: str
    name: LangText
    interaction: Mapping[str, Any]
    description: LangText | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """A graded score; ``scaled`` defaults to ``(raw - min) / (max - min)``."""

    raw: int | float
    max: int | float
    min: int | float = 0
    scaled: int | float | None = None

    def as_xapi(self) -> dict[str, Any]:
        """Return the score as a statement's ``result.score``, checking its ranges."""
        raw, low, high = (
            _number(x, name)
            for x, name in ((self.raw, "raw"), (self.min, "min"), (self.max, "max"))
        )
        if not low <= raw <= high:
            raise ValueError(f"score raw {raw} is not within min {low} .. max {high}")
        if self.scaled is not None:
            scaled = _number(self.scaled, "scaled")
        elif high > low:
            scaled = round((raw - low) / (high - low), 4)
        else:
            raise ValueError("score max must exceed min to compute scaled")
        if not -1 <= scaled <= 1:
            raise ValueError(f"score scaled must be within -1 .. 1, got {scaled}")
        return {"raw": raw, "min": low, "max": high, "scaled": scaled}


@dataclass(frozen=True, slots=True)
class Statement:
    """A built statement: its id and timestamp, and the whole statement as a JSON-ready dict.

    Treat ``data`` as read-only: the outbox stores ``serialise(statement)`` once, and
    statements built from one :class:`Prepared` share its parts. ``encoded``, when set, is
    what ``serialise`` returns (the builders set it, encoding the shared parts only once).
    """

    id: str
    timestamp: str
    data: dict[str, Any]
    encoded: bytes | None = field(default=None, compare=False, repr=False)


# One encoder for every statement: ``json.dumps`` with options builds a new encoder per call.
_ENCODER = json.JSONEncoder(
    ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
)


def serialise(statement: Statement) -> bytes:
    """Return the statement as compact UTF-8 JSON with sorted keys: the bytes to store and send."""
    if statement.encoded is not None:
        return statement.encoded
    return _ENCODER.encode(statement.data).encode("utf-8")


@dataclass(frozen=True, slots=True)
class Prepared:
    """The parts of a statement that are known before its event happens (actor, verb, object,
    context), built, checked and encoded once, for events that recur with the same parts:
    every answer to one question in one attempt. :meth:`statement` adds what each event has
    of its own (id, timestamp, result).

    A statement's JSON with sorted keys is its members' JSON texts in key order, so the
    encoded parts are joined with the event's own members as they are: ``serialise`` gives
    the same bytes as encoding the whole statement (``tests/xapi`` checks it).
    """

    parts: dict[str, Any]
    #: The parts' members as JSON text: those sorted before ``id``, between ``id`` and
    #: ``result``, between ``result`` and ``timestamp``, and after ``timestamp``.
    encoded: tuple[str, str, str, str]

    @classmethod
    def of(cls, parts: dict[str, Any]) -> Prepared:
        if {"id", "result", "timestamp"} & set(parts):
            raise ValueError("a statement's id, result and timestamp are its own")

        def members(low: str, high: str) -> str:
            keys = sorted(key for key in parts if low < key < high)
            return "".join(f",{_ENCODER.encode(key)}:{_ENCODER.encode(parts[key])}" for key in keys)

        return cls(
            parts,
            (
                members("", "id"),
                members("id", "result"),
                members("result", "timestamp"),
                members("timestamp", "\U0010ffff"),
            ),
        )

    def statement(
        self,
        *,
        result: dict[str, Any] | None = None,
        id_factory: IdFactory = uuid.uuid4,
        clock: Clock = utc_now,
    ) -> Statement:
        """Return the statement of one event, with a new id and the clock's time."""
        statement_id = _new_id(id_factory)
        timestamp = format_timestamp(clock())
        before_id, before_result, before_timestamp, after = self.encoded
        # The id (a UUID) and the timestamp are JSON strings with nothing to escape.
        # Every member's text begins with a comma: the first one's is dropped.
        text = f'{before_id},"id":"{statement_id}"{before_result}'
        if result is not None:
            text += f',"result":{_ENCODER.encode(result)}'
        text += f'{before_timestamp},"timestamp":"{timestamp}"{after}'
        own: dict[str, Any] = {"id": statement_id, "timestamp": timestamp}
        if result is not None:
            own["result"] = result
        encoded = ("{" + text[1:] + "}").encode("utf-8")
        return Statement(statement_id, timestamp, own | self.parts, encoded)


# -- Builders -------------------------------------------------------------------------------


def module_experienced(
    origin: Origin,
    course: Content,
    module: Content,
    *,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner experienced (viewed) a module of a course"."""
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        v.EXPERIENCED,
        _activity(iris.module(module.id), v.MODULE_TYPE, module),
        context=_context(origin, parents=[_course(iris, course)], plan=plan),
        id_factory=id_factory,
        clock=clock,
    )


def module_completed(
    origin: Origin,
    course: Content,
    module: Content,
    *,
    duration: DurationValue | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner completed a module of a course", with the time spent if known."""
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        v.COMPLETED,
        _activity(iris.module(module.id), v.MODULE_TYPE, module),
        result=_result(completion=True, duration=duration),
        context=_context(origin, parents=[_course(iris, course)], plan=plan),
        id_factory=id_factory,
        clock=clock,
    )


def course_completed(
    origin: Origin,
    course: Content,
    *,
    duration: DurationValue | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner completed a course" (every module done)."""
    return _statement(
        origin,
        v.COMPLETED,
        _course(v.Iris(origin.base_url), course),
        result=_result(completion=True, duration=duration),
        context=_context(origin, plan=plan),
        id_factory=id_factory,
        clock=clock,
    )


def quiz_attempted(
    origin: Origin,
    quiz: Content,
    *,
    registration: uuid.UUID | str,
    course: Content | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner started an attempt at a quiz"; ``registration`` identifies the attempt."""
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        v.ATTEMPTED,
        _activity(iris.quiz(quiz.id), v.ASSESSMENT_TYPE, quiz),
        context=_context(
            origin, parents=_optional_course(iris, course), plan=plan, registration=registration
        ),
        id_factory=id_factory,
        clock=clock,
    )


def question_answered(
    origin: Origin,
    quiz: Content,
    question: Question,
    response: str,
    *,
    registration: uuid.UUID | str,
    success: bool | None = None,
    score: Score | None = None,
    duration: DurationValue | None = None,
    course: Content | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner answered a question of a quiz" in the attempt ``registration``.

    ``response`` uses the xAPI response format of the interaction type (e.g. ``"a[,]c"`` for
    choice, ``"true"`` for true-false); an empty response is left out of the result.
    """
    return answering(
        origin, quiz, question, registration=registration, course=course, plan=plan
    ).statement(
        result=answer_result(response, success=success, score=score, duration=duration),
        id_factory=id_factory,
        clock=clock,
    )


def answer_result(
    response: str,
    *,
    success: bool | None = None,
    score: Score | None = None,
    duration: DurationValue | None = None,
) -> dict[str, Any] | None:
    """The ``result`` of a ``question_answered`` statement, for ``answering(...).statement``."""
    return _result(response=response, success=success, score=score, duration=duration)


def answering(
    origin: Origin,
    quiz: Content,
    question: Question,
    *,
    registration: uuid.UUID | str,
    course: Content | None = None,
    plan: PlanLink | None = None,
) -> Prepared:
    """Prepare the parts every ``question_answered`` statement of one question in one attempt
    shares (a caller that records many answers keeps them; see :class:`Prepared`)."""
    iris = v.Iris(origin.base_url)
    parents = [_activity(iris.quiz(quiz.id), v.ASSESSMENT_TYPE, quiz)]
    return _prepare(
        origin,
        v.ANSWERED,
        _interaction(iris.question(quiz.id, question.id), question),
        context=_context(
            origin,
            parents=parents,
            groupings=_optional_course(iris, course),
            plan=plan,
            registration=registration,
        ),
    )


def quiz_passed(
    origin: Origin,
    quiz: Content,
    score: Score,
    *,
    registration: uuid.UUID | str,
    duration: DurationValue | None = None,
    course: Content | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner passed a quiz" at the end of the attempt ``registration``."""
    return _quiz_finished(
        v.PASSED, origin, quiz, score, registration, duration, course, plan, id_factory, clock
    )


def quiz_failed(
    origin: Origin,
    quiz: Content,
    score: Score,
    *,
    registration: uuid.UUID | str,
    duration: DurationValue | None = None,
    course: Content | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner failed a quiz" at the end of the attempt ``registration``."""
    return _quiz_finished(
        v.FAILED, origin, quiz, score, registration, duration, course, plan, id_factory, clock
    )


def survey_responded(
    origin: Origin,
    survey: Content,
    item: Question,
    response: str,
    *,
    registration: uuid.UUID | str,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner responded to an item of a competence survey (osaamiskartoitus)".

    ``item.interaction`` is usually a likert one with a ``scale``; ``response`` is the id of
    the chosen scale point.
    """
    iris = v.Iris(origin.base_url)
    parents = [_activity(iris.survey(survey.id), v.SURVEY_TYPE, survey)]
    return _statement(
        origin,
        v.RESPONDED,
        _interaction(iris.survey_item(survey.id, item.id), item),
        result=_result(response=response),
        context=_context(origin, parents=parents, plan=plan, registration=registration),
        id_factory=id_factory,
        clock=clock,
    )


def plan_assigned(
    origin: Origin,
    plan: Content,
    assignee_id: str,
    *,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "coordinator assigned a learning plan to a learner".

    ``origin`` is the coordinator (the actor); the learner's opaque id goes into the
    ``assignee`` context extension as an account Agent.
    """
    iris = v.Iris(origin.base_url)
    _require_text(assignee_id, "assignee_id")
    assignee = _agent(origin.base_url, assignee_id)
    return _statement(
        origin,
        v.ASSIGNED,
        _activity(iris.plan(plan.id), iris.plan_type, plan),
        context=_context(origin, extensions={iris.extension(v.ASSIGNEE_EXTENSION): assignee}),
        id_factory=id_factory,
        clock=clock,
    )


def event_attended(
    origin: Origin,
    event: Content,
    *,
    duration: DurationValue | None = None,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner attended an event" (training day, webinar), with its length if known."""
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        v.ATTENDED,
        _activity(iris.event(event.id), v.EVENT_TYPE, event),
        result=_result(duration=duration),
        context=_context(origin, plan=plan),
        id_factory=id_factory,
        clock=clock,
    )


def observation_shared(
    origin: Origin,
    observation: Content,
    *,
    plan: PlanLink | None = None,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build "learner shared an observation" (from their own work, with their coordinator)."""
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        v.SHARED,
        _activity(iris.observation(observation.id), iris.observation_type, observation),
        context=_context(origin, plan=plan),
        id_factory=id_factory,
        clock=clock,
    )


def statement_voided(
    base_url: str,
    actor_id: str,
    voided_statement_id: uuid.UUID | str,
    *,
    id_factory: IdFactory = uuid.uuid4,
    clock: Clock = utc_now,
) -> Statement:
    """Build the voiding statement that withdraws an earlier one (GDPR erasure).

    ``actor_id`` is the account that voids: the administrator handling the request, or the
    instance's own service account, so that the voiding statement itself need not name the
    erased learner. Voiding hides the statement from LRS queries; erasing it from the LRS's
    storage is done with the LRS's own tools.
    """
    base_url = v.normalise_base_url(base_url)
    _require_text(actor_id, "actor_id")
    statement_id = _new_id(id_factory)
    timestamp = format_timestamp(clock())
    data = {
        "id": statement_id,
        "timestamp": timestamp,
        "actor": _agent(base_url, actor_id),
        "verb": v.VOIDED.as_xapi(),
        "object": {
            "objectType": "StatementRef",
            "id": _uuid_text(voided_statement_id, "voided_statement_id"),
        },
    }
    return Statement(statement_id, timestamp, data)


def with_origin(statement: Statement, old: Origin, new: Origin) -> Statement:
    """Return ``statement``, built from ``old``, as the same builder would build it from ``new``.

    The id, timestamp, verb, object and result stay; the actor, the library grouping and the
    library extensions become ``new``'s. For the outbox, when the origin a statement was built
    from turns out to be out of date before the statement is stored. Both origins must have the
    same base URL and language (activity ids and names depend on them).
    """
    if (old.base_url, old.language) != (new.base_url, new.language):
        raise ValueError("with_origin changes the actor and library only, not URL or language")
    data = copy.deepcopy(statement.data)
    if data.get("actor") == _agent(old.base_url, old.user_id):
        data["actor"] = _agent(new.base_url, new.user_id)
    context = data.get("context")
    if context is not None:
        iris = v.Iris(old.base_url)
        old_activity = _library_activity(iris, old.library)
        grouping = context.get("contextActivities", {}).get("grouping", [])
        for index, activity in enumerate(grouping):
            if activity == old_activity:
                grouping[index] = _library_activity(iris, new.library)
        extensions = context.get("extensions", {})
        stale = _library_extensions(iris, old.library)
        if all(extensions.get(key) == value for key, value in stale.items()):
            extensions.update(_library_extensions(iris, new.library))
    return Statement(statement.id, statement.timestamp, data)


# -- Formatting helpers ---------------------------------------------------------------------


def format_timestamp(moment: datetime) -> str:
    """Return an aware datetime as UTC ISO 8601 with millisecond precision and ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    # "2026-11-26T09:30:00.123+00:00" without its offset: the time in UTC.
    return moment.astimezone(UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


@functools.lru_cache(maxsize=4096, typed=True)
def format_duration(value: DurationValue) -> str:
    """Return a duration as ISO 8601 (``PT12.5S``, ``PT1H2M3S``), to 0.01 s.

    xAPI compares durations to 0.01 s only, so finer precision is dropped here rather than
    by the LRS: the stored bytes then equal what the LRS keeps.
    """
    if isinstance(value, timedelta):
        seconds = Decimal(value.days * 86400 + value.seconds) + Decimal(value.microseconds) / 10**6
    elif isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"duration must be a timedelta or seconds, got {value!r}")
    elif not math.isfinite(value):
        raise ValueError(f"duration must be finite, got {value!r}")
    else:
        seconds = Decimal(str(value))
    if seconds < 0:
        raise ValueError(f"duration must not be negative, got {value!r}")
    centis = int(seconds.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN) * 100)
    hours, rest = divmod(centis, 360000)
    minutes, rest = divmod(rest, 6000)
    whole, fraction = divmod(rest, 100)
    text = "PT"
    if hours:
        text += f"{hours}H"
    if minutes:
        text += f"{minutes}M"
    if whole or fraction or text == "PT":
        text += str(whole)
        if fraction:
            text += f".{fraction:02d}".rstrip("0")
        text += "S"
    return text


def language_map(text: LangText, what: str = "name") -> dict[str, str]:
    """Return a language map from a plain Finnish string or a ``{tag: text}`` mapping."""
    if isinstance(text, str):
        text = {v.DEFAULT_LANGUAGE: text}
    if not isinstance(text, Mapping) or not text:
        raise ValueError(f"{what} must be a non-empty string or language map, got {text!r}")
    result: dict[str, str] = {}
    for tag, value in text.items():
        if not isinstance(tag, str) or not v.is_language_tag(tag):
            raise ValueError(f"{what} has an invalid language tag {tag!r} (use 'fi', 'fi-FI')")
        _require_text(value, f"{what}[{tag!r}]")
        result[tag] = value
    return result


# -- Internals ------------------------------------------------------------------------------


def _require_text(value: object, what: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what} must be a non-empty string, got {value!r}")


def _number(value: object, what: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"score {what} must be a number, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"score {what} must be finite, got {value!r}")
    return value


def _uuid_text(value: uuid.UUID | str, what: str) -> str:
    try:
        parsed = value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{what} must be a UUID, got {value!r}") from None
    if parsed.variant != uuid.RFC_4122:
        raise ValueError(f"{what} must be an RFC 4122 UUID, got {value!r}")
    return str(parsed)


def _new_id(id_factory: IdFactory) -> str:
    return _uuid_text(id_factory(), "statement id")


def _agent(base_url: str, user_id: str) -> dict[str, Any]:
    return {"objectType": "Agent", "account": {"homePage": base_url, "name": user_id}}


def _definition(
    activity_type: str, content_name: LangText | None, description: LangText | None
) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": activity_type}
    if content_name is not None:
        definition["name"] = language_map(content_name)
    if description is not None:
        definition["description"] = language_map(description, "description")
    return definition


def _activity(iri: str, activity_type: str, content: Content) -> dict[str, Any]:
    return {
        "objectType": "Activity",
        "id": iri,
        "definition": _definition(activity_type, content.name, content.description),
    }


def _course(iris: v.Iris, course: Content) -> dict[str, Any]:
    return _activity(iris.course(course.id), v.COURSE_TYPE, course)


def _optional_course(iris: v.Iris, course: Content | None) -> list[dict[str, Any]]:
    return [] if course is None else [_course(iris, course)]


def _interaction(iri: str, question: Question) -> dict[str, Any]:
    definition = _definition(v.INTERACTION_TYPE, question.name, question.description)
    definition.update(_interaction_fields(question.interaction))
    return {"objectType": "Activity", "id": iri, "definition": definition}


def _interaction_fields(interaction: Mapping[str, Any]) -> dict[str, Any]:
    kind = interaction.get("interactionType")
    if kind not in v.INTERACTION_COMPONENTS:
        raise ValueError(f"unknown interactionType {kind!r}")
    allowed = v.INTERACTION_COMPONENTS[kind]
    fields: dict[str, Any] = {"interactionType": kind}
    for key, value in interaction.items():
        if key == "interactionType":
            continue
        if key == "correctResponsesPattern":
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise ValueError("correctResponsesPattern must be a non-empty list of strings")
            for pattern in value:
                _require_text(pattern, "correctResponsesPattern item")
            fields[key] = list(value)
        elif key in allowed:
            fields[key] = _components(key, value)
        else:
            raise ValueError(f"interaction property {key!r} is not allowed for {kind!r}")
    return fields


def _components(key: str, components: object) -> list[dict[str, Any]]:
    if isinstance(components, str | bytes) or not isinstance(components, Sequence):
        raise ValueError(f"{key} must be a list of components")
    result: list[dict[str, Any]] = []
    seen: set[str] = set()
    for component in components:
        if not isinstance(component, Mapping):
            raise ValueError(f"{key} components must be mappings, got {component!r}")
        component_id = component.get("id")
        if (
            not isinstance(component_id, str)
            or not component_id
            or any(ch.isspace() for ch in component_id)
        ):
            raise ValueError(
                f"{key} component id must be a string without spaces, got {component_id!r}"
            )
        if component_id in seen:
            raise ValueError(f"{key} has duplicate component id {component_id!r}")
        seen.add(component_id)
        unknown = set(component) - {"id", "description"}
        if unknown:
            raise ValueError(f"{key} component has unknown properties {sorted(unknown)}")
        item: dict[str, Any] = {"id": component_id}
        if component.get("description") is not None:
            item["description"] = language_map(component["description"], "description")
        result.append(item)
    return result


def _result(
    *,
    response: str | None = None,
    success: bool | None = None,
    completion: bool | None = None,
    score: Score | None = None,
    duration: DurationValue | None = None,
) -> dict[str, Any] | None:
    result: dict[str, Any] = {}
    if score is not None:
        result["score"] = score.as_xapi()
    if success is not None:
        result["success"] = bool(success)
    if completion is not None:
        result["completion"] = bool(completion)
    if response:
        # An empty response is valid xAPI but not to every validator: it says nothing anyway.
        result["response"] = response
    if duration is not None:
        result["duration"] = format_duration(duration)
    return result or None


def _plan_activity(iris: v.Iris, plan: PlanLink) -> dict[str, Any]:
    definition: dict[str, Any] = {"type": iris.plan_type}
    if plan.name is not None:
        definition["name"] = language_map(plan.name)
    return {"objectType": "Activity", "id": iris.plan(plan.id), "definition": definition}


def _context(
    origin: Origin,
    *,
    parents: Sequence[dict[str, Any]] = (),
    groupings: Sequence[dict[str, Any]] = (),
    plan: PlanLink | None = None,
    registration: uuid.UUID | str | None = None,
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    iris = v.Iris(origin.base_url)
    library = origin.library
    parent = list(parents)
    grouping = [*groupings, _library_activity(iris, library)]
    if plan is not None:
        plan_activity = _plan_activity(iris, plan)
        grouping.append(plan_activity)
        if plan.serves_item:
            parent.append(plan_activity)
    activities: dict[str, Any] = {"grouping": grouping}
    if parent:
        activities["parent"] = parent
    context: dict[str, Any] = {
        "contextActivities": activities,
        "platform": v.PLATFORM,
        "language": origin.language,
        "extensions": {**_library_extensions(iris, library), **(extensions or {})},
    }
    if registration is not None:
        context["registration"] = _uuid_text(registration, "registration")
    return context


def _library_activity(iris: v.Iris, library: Library) -> dict[str, Any]:
    _require_text(library.id, "library id")
    return {
        "objectType": "Activity",
        "id": iris.library(library.id),
        "definition": {"type": v.ORGANIZATION_TYPE, "name": language_map(library.name)},
    }


def _library_extensions(iris: v.Iris, library: Library) -> dict[str, str]:
    _require_text(library.municipality, "library municipality")
    _require_text(library.region, "library region")
    return {
        iris.extension(v.LIBRARY_ID_EXTENSION): library.id,
        iris.extension(v.MUNICIPALITY_EXTENSION): library.municipality,
        iris.extension(v.REGION_EXTENSION): library.region,
    }


def _quiz_finished(
    verb: v.Verb,
    origin: Origin,
    quiz: Content,
    score: Score,
    registration: uuid.UUID | str,
    duration: DurationValue | None,
    course: Content | None,
    plan: PlanLink | None,
    id_factory: IdFactory,
    clock: Clock,
) -> Statement:
    iris = v.Iris(origin.base_url)
    return _statement(
        origin,
        verb,
        _activity(iris.quiz(quiz.id), v.ASSESSMENT_TYPE, quiz),
        result=_result(score=score, success=verb is v.PASSED, completion=True, duration=duration),
        context=_context(
            origin, parents=_optional_course(iris, course), plan=plan, registration=registration
        ),
        id_factory=id_factory,
        clock=clock,
    )


def _prepare(
    origin: Origin, verb: v.Verb, activity: dict[str, Any], *, context: dict[str, Any]
) -> Prepared:
    return Prepared.of(
        {
            "actor": _agent(origin.base_url, origin.user_id),
            "verb": verb.as_xapi(),
            "object": activity,
            "context": context,
        }
    )


def _statement(
    origin: Origin,
    verb: v.Verb,
    activity: dict[str, Any],
    *,
    context: dict[str, Any],
    result: dict[str, Any] | None = None,
    id_factory: IdFactory,
    clock: Clock,
) -> Statement:
    return _prepare(origin, verb, activity, context=context).statement(
        result=result, id_factory=id_factory, clock=clock
    )


def _frozen(value: object) -> object:
    """A name or description as a hashable value (a language map as sorted pairs)."""
    if isinstance(value, Mapping):
        return tuple(sorted(value.items()))
    return value
