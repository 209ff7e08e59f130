"""xAPI vocabulary used by Liboppi: verb and activity-type IRIs, and the instance's own IRIs.

Published IRIs (ADL, the Tin Can registry, Activity Streams) are used wherever one fits, so
that any LRS report understands them. What has no published IRI (the learning plan, the
observation, the context extensions) is minted under the instance's base URL, as are the
permanent activity ids built from stable content ids (never from titles or file paths).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, urlsplit

# Characters kept as they are in an id segment: RFC 3986 unreserved plus a few sub-delims
# that are safe inside one path segment. Everything else (space, "/", "?", "#", non-ASCII)
# is percent-encoded, so a content id always maps to the same single path segment.
_SEGMENT_SAFE = "-._~!$'()*+,;=:@"

# RFC 5646 language tag, the common shapes: language (2-3 letters, or 4-8), optional
# extlang, script, region, variants, extensions and private use; or a private-use tag alone.
_LANGUAGE_TAG = re.compile(
    r"^(?:"
    r"(?:[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|[0-9]{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+"
    r")$"
)

#: Value of ``context.platform`` in every statement Liboppi makes.
PLATFORM = "Liboppi"

#: Language of names given as plain strings: Liboppi's content is written in Finnish first.
DEFAULT_LANGUAGE = "fi"


def is_language_tag(tag: str) -> bool:
    """Tell whether ``tag`` is an RFC 5646 language tag (``fi``, ``fi-FI``; never ``fi_FI``)."""
    return bool(_LANGUAGE_TAG.match(tag))


def _frozen(mapping: Mapping[str, str]) -> Mapping[str, str]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Verb:
    """An xAPI verb: its permanent IRI and its display names by language."""

    iri: str
    display: Mapping[str, str]

    def as_xapi(self) -> dict[str, Any]:
        """Return the verb as the ``verb`` object of a statement."""
        return {"id": self.iri, "display": dict(self.display)}


def _adl(word: str, fi: str, sv: str) -> Verb:
    return Verb(f"http://adlnet.gov/expapi/verbs/{word}", _frozen({"fi": fi, "sv": sv, "en": word}))


EXPERIENCED = _adl("experienced", "tutustui", "bekantade sig med")
PROGRESSED = _adl("progressed", "edistyi", "gjorde framsteg i")
COMPLETED = _adl("completed", "suoritti", "slutförde")
ATTEMPTED = _adl("attempted", "aloitti", "påbörjade")
ANSWERED = _adl("answered", "vastasi", "svarade på")
PASSED = _adl("passed", "läpäisi", "klarade")
FAILED = _adl("failed", "ei läpäissyt", "klarade inte")
RESPONDED = _adl("responded", "vastasi kyselyyn", "besvarade")
ATTENDED = _adl("attended", "osallistui", "deltog i")
SHARED = _adl("shared", "jakoi", "delade")
INITIALIZED = _adl("initialized", "käynnisti", "startade")
TERMINATED = _adl("terminated", "lopetti", "avslutade")
VOIDED = _adl("voided", "mitätöi", "ogiltigförklarade")
#: Activity Streams 1.0 "assign" (in the xAPI registry): a coordinator assigned a plan.
ASSIGNED = Verb(
    "http://activitystrea.ms/schema/1.0/assign",
    _frozen({"fi": "osoitti", "sv": "tilldelade", "en": "assigned"}),
)

#: Every verb above, by its English display name.
VERBS: Mapping[str, Verb] = MappingProxyType(
    {
        verb.display["en"]: verb
        for verb in (
            EXPERIENCED,
            PROGRESSED,
            COMPLETED,
            ATTEMPTED,
            ANSWERED,
            PASSED,
            FAILED,
            RESPONDED,
            ATTENDED,
            SHARED,
            INITIALIZED,
            TERMINATED,
            VOIDED,
            ASSIGNED,
        )
    }
)

# Published activity types.
COURSE_TYPE = "http://adlnet.gov/expapi/activities/course"
MODULE_TYPE = "http://adlnet.gov/expapi/activities/module"
ASSESSMENT_TYPE = "http://adlnet.gov/expapi/activities/assessment"
INTERACTION_TYPE = "http://adlnet.gov/expapi/activities/cmi.interaction"
#: Tin Can registry: "A survey where the respondent answers questions."
SURVEY_TYPE = "http://id.tincanapi.com/activitytype/survey"
#: Tin Can registry: "An organization such as a company" -- a library (kirjasto).
ORGANIZATION_TYPE = "http://id.tincanapi.com/activitytype/organization"
#: Activity Streams: an event at a certain place and time (training day, webinar).
EVENT_TYPE = "http://activitystrea.ms/schema/1.0/event"

# Names of the instance's own activity types and context extensions (see Iris).
PLAN_TYPE_NAME = "learning-plan"
OBSERVATION_TYPE_NAME = "observation"
LIBRARY_ID_EXTENSION = "library-id"
MUNICIPALITY_EXTENSION = "municipality"
REGION_EXTENSION = "region"
#: Extension carrying the learner a coordinator assigned a plan to (an Agent object).
ASSIGNEE_EXTENSION = "assignee"

#: interactionType values of xAPI 1.0.3, with the component lists each one may carry.
INTERACTION_COMPONENTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "true-false": frozenset(),
        "choice": frozenset({"choices"}),
        "fill-in": frozenset(),
        "long-fill-in": frozenset(),
        "matching": frozenset({"source", "target"}),
        "performance": frozenset({"steps"}),
        "sequencing": frozenset({"choices"}),
        "likert": frozenset({"scale"}),
        "numeric": frozenset(),
        "other": frozenset(),
    }
)


def normalise_base_url(base_url: str) -> str:
    """Return the instance base URL without a trailing slash; reject anything but http(s)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"base URL must be an absolute http(s) URL, got {base_url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"base URL must have no query or fragment, got {base_url!r}")
    return base_url.rstrip("/")


def _segment(content_id: str) -> str:
    if not isinstance(content_id, str) or not content_id.strip():
        raise ValueError(f"content id must be a non-empty string, got {content_id!r}")
    return _quoted(content_id)


@lru_cache(maxsize=4096)
def _quoted(content_id: str) -> str:
    # The same few content ids come back in every statement; quoting is the builders' main cost.
    return quote(content_id, safe=_SEGMENT_SAFE)


@dataclass(frozen=True, slots=True)
class Iris:
    """Permanent IRIs of one Liboppi instance, all under ``{base_url}/xapi/``."""

    base_url: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", normalise_base_url(self.base_url))

    def _activity(self, *segments: str) -> str:
        return "/".join((self.base_url, "xapi", "activities", *map(_segment, segments)))

    def course(self, course_id: str) -> str:
        """Return the activity id of a course."""
        return self._activity("course", course_id)

    def module(self, module_id: str) -> str:
        """Return the activity id of a course module."""
        return self._activity("module", module_id)

    def quiz(self, quiz_id: str) -> str:
        """Return the activity id of a quiz."""
        return self._activity("quiz", quiz_id)

    def question(self, quiz_id: str, question_id: str) -> str:
        """Return the activity id of one question of a quiz."""
        return self._activity("quiz", quiz_id, "question", question_id)

    def survey(self, survey_id: str) -> str:
        """Return the activity id of a competence survey (osaamiskartoitus)."""
        return self._activity("survey", survey_id)

    def survey_item(self, survey_id: str, item_id: str) -> str:
        """Return the activity id of one item (statement to rate) of a survey."""
        return self._activity("survey", survey_id, "item", item_id)

    def library(self, library_id: str) -> str:
        """Return the activity id of a library (kirjasto)."""
        return self._activity("library", library_id)

    def plan(self, plan_id: str) -> str:
        """Return the activity id of a learning plan (oppimissuunnitelma)."""
        return self._activity("plan", plan_id)

    def event(self, event_id: str) -> str:
        """Return the activity id of an event (training day, webinar)."""
        return self._activity("event", event_id)

    def observation(self, observation_id: str) -> str:
        """Return the activity id of an observation shared by a learner."""
        return self._activity("observation", observation_id)

    def activity_type(self, name: str) -> str:
        """Return the IRI of one of the instance's own activity types."""
        return f"{self.base_url}/xapi/activity-types/{_segment(name)}"

    def extension(self, name: str) -> str:
        """Return the IRI of one of the instance's own context extensions."""
        return f"{self.base_url}/xapi/extensions/{_segment(name)}"

    @property
    def plan_type(self) -> str:
        """Return the activity type of a learning plan."""
        return self.activity_type(PLAN_TYPE_NAME)

    @property
    def observation_type(self) -> str:
        """Return the activity type of an observation."""
        return self.activity_type(OBSERVATION_TYPE_NAME)
