"""Statements: golden JSON per event kind, validity for ralph and for a strict LRS."""

from __future__ import annotations

import json
import math
import os
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ralph.models.xapi.base.statements import BaseXapiStatement

from liboppi.xapi import statements as s
from liboppi.xapi import vocabulary as v
from tests.xapi.examples import (
    BASE_URL,
    CHOICE_QUESTION,
    COURSE,
    INARI,
    MODULE,
    QUIZ,
    REGISTRATION,
    FakeClock,
    build_examples,
    learner,
    sequential_ids,
)

GOLDEN = Path(__file__).parent / "golden"
# Set LIBOPPI_UPDATE_GOLDEN=1 to rewrite the golden files after a deliberate change.
UPDATE = os.environ.get("LIBOPPI_UPDATE_GOLDEN") == "1"
EXAMPLES = build_examples()

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
# The duration pattern Learning Locker's validator uses.
DURATION = re.compile(
    r"^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?"
    r"(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$"
)
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")


def check_lrs_rules(data: dict[str, Any]) -> None:
    """Check what ralph lets through but real LRSs reject (XAPI.md), and our own promises."""
    assert TIMESTAMP.match(data["timestamp"]), data["timestamp"]
    assert uuid.UUID(data["id"]).version == 4
    assert "version" not in data and "stored" not in data and "authority" not in data
    actor = data["actor"]
    assert set(actor) == {"objectType", "account"} and actor["objectType"] == "Agent"
    assert set(actor["account"]) == {"homePage", "name"}
    assert "mbox" not in json.dumps(data)
    result = data.get("result", {})
    if "duration" in result:
        assert DURATION.match(result["duration"]), result["duration"]
    if "score" in result:
        score = result["score"]
        assert -1 <= score["scaled"] <= 1
        assert score["min"] <= score["raw"] <= score["max"]
    context = data.get("context", {})
    if "registration" in context:
        uuid.UUID(context["registration"])
    if "language" in context:
        assert LANGUAGE.match(context["language"])
    _check_language_maps(data)


def _check_language_maps(node: Any, key: str = "") -> None:
    if isinstance(node, dict):
        if key in ("name", "description", "display"):
            assert node, f"empty language map at {key}"
            for tag, text in node.items():
                assert v.is_language_tag(tag) and "_" not in tag, tag
                assert isinstance(text, str) and text
        for child_key, child in node.items():
            if child_key != "extensions":
                assert child not in (None, "", {}, []), f"empty value at {child_key}"
            _check_language_maps(child, child_key)
    elif isinstance(node, list):
        for child in node:
            _check_language_maps(child, key)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_statement_matches_its_golden_file(name: str) -> None:
    statement = EXAMPLES[name]
    path = GOLDEN / f"{name}.json"
    built = json.loads(s.serialise(statement))
    if UPDATE:
        path.write_text(json.dumps(built, ensure_ascii=False, sort_keys=True, indent=2) + "\n")
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert built == golden
    # The stored bytes are the compact, sorted form of the golden file.
    compact = json.dumps(golden, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert s.serialise(statement) == compact.encode("utf-8")


def test_every_golden_file_has_an_example() -> None:
    assert {path.stem for path in GOLDEN.glob("*.json")} == set(EXAMPLES)


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_statement_is_valid_for_ralph_and_a_strict_lrs(name: str) -> None:
    payload = s.serialise(EXAMPLES[name])
    data = json.loads(payload)
    BaseXapiStatement.model_validate(data)
    check_lrs_rules(data)


def test_statement_carries_its_id_and_timestamp() -> None:
    statement = EXAMPLES["module_experienced"]
    assert statement.id == statement.data["id"] == "00000000-0000-4000-8000-000000000001"
    assert statement.timestamp == statement.data["timestamp"] == "2026-11-26T09:30:00.123Z"


def test_serialise_is_compact_sorted_utf8() -> None:
    payload = s.serialise(EXAMPLES["module_completed"])
    assert b"\n" not in payload and b": " not in payload and b", " not in payload
    assert b"Asiakkaan kohtaaminen" in payload
    assert "Anára".encode() in payload  # UTF-8, not \u escapes
    assert payload.startswith(b'{"actor":{"account":')


def test_default_ids_are_uuid4_and_default_clock_is_utc_now() -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    statement = s.module_experienced(learner(), COURSE, MODULE)
    assert uuid.UUID(statement.id).version == 4
    stamped = datetime.fromisoformat(statement.timestamp.replace("Z", "+00:00"))
    assert before <= stamped <= datetime.now(UTC)
    check_lrs_rules(statement.data)


def test_timestamp_is_converted_to_utc_and_truncated_to_milliseconds() -> None:
    helsinki = timezone(timedelta(hours=2))
    moment = datetime(2026, 11, 26, 11, 30, 0, 999999, tzinfo=helsinki)
    assert s.format_timestamp(moment) == "2026-11-26T09:30:00.999Z"


def test_naive_timestamp_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        s.module_experienced(learner(), COURSE, MODULE, clock=lambda: datetime(2026, 11, 26, 9, 30))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (12.5, "PT12.5S"),
        (0, "PT0S"),
        (60, "PT1M"),
        (3723.25, "PT1H2M3.25S"),
        (0.004, "PT0S"),
        (0.05, "PT0.05S"),
        (timedelta(hours=30), "PT30H"),
        (timedelta(minutes=7, seconds=12.5), "PT7M12.5S"),
    ],
)
def test_duration_is_iso_8601_to_the_hundredth(value: timedelta | float, expected: str) -> None:
    assert s.format_duration(value) == expected


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False))
def test_every_duration_matches_the_lrs_pattern_and_round_trips(seconds: float) -> None:
    text = s.format_duration(seconds)
    assert DURATION.match(text)
    match = DURATION.match(text)
    assert match is not None
    hours, minutes, secs = (match.group(i) for i in (6, 7, 8))
    total = int(hours or 0) * 3600 + int(minutes or 0) * 60 + Decimal(secs or 0)
    assert abs(total - Decimal(str(seconds))) <= Decimal("0.005")


@pytest.mark.parametrize("bad", [-1, float("nan"), float("inf"), True, "12"])
def test_invalid_durations_are_rejected(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        s.format_duration(bad)


@given(
    st.integers(min_value=0, max_value=1000),
    st.integers(min_value=1, max_value=1000),
)
def test_scaled_score_stays_within_minus_one_and_one(raw: int, extra: int) -> None:
    score = s.Score(raw=raw, max=raw + extra).as_xapi()
    assert 0 <= score["scaled"] <= 1
    assert math.isclose(score["scaled"], raw / (raw + extra), abs_tol=0.00005)


@pytest.mark.parametrize(
    "score",
    [
        s.Score(raw=10, max=9),
        s.Score(raw=-1, max=9),
        s.Score(raw=1, max=1, min=1),
        s.Score(raw=1, max=2, scaled=1.5),
        s.Score(raw=float("nan"), max=2),
    ],
)
def test_out_of_range_scores_are_rejected(score: s.Score) -> None:
    with pytest.raises(ValueError):
        score.as_xapi()


@pytest.mark.parametrize("tag", ["fi_FI", "", "f", "suomi-kieli-x_"])
def test_underscored_or_malformed_language_is_rejected(tag: str) -> None:
    with pytest.raises(ValueError, match="language"):
        s.Origin(BASE_URL, "u-1", INARI, language=tag)


@pytest.mark.parametrize("tag", ["fi", "sv", "en", "fi-FI", "sv-FI", "se", "smn", "sms"])
def test_language_tags_of_lapland_are_accepted(tag: str) -> None:
    statement = s.module_experienced(s.Origin(BASE_URL, "u-1", INARI, language=tag), COURSE, MODULE)
    assert statement.data["context"]["language"] == tag


def test_names_with_underscored_language_keys_are_rejected() -> None:
    with pytest.raises(ValueError, match="language tag"):
        s.module_experienced(learner(), s.Content("c", {"fi_FI": "Kurssi"}), MODULE)


def test_actor_is_an_account_on_the_instance_never_an_email() -> None:
    actor = EXAMPLES["module_experienced"].data["actor"]
    assert actor == {
        "objectType": "Agent",
        "account": {"homePage": BASE_URL, "name": "u-7f3a9c"},
    }


def test_activity_ids_come_from_stable_content_ids() -> None:
    data = EXAMPLES["question_answered_choice"].data
    assert data["object"]["id"] == (
        f"{BASE_URL}/xapi/activities/quiz/digituki-tentti/question/q-tunnistautuminen"
    )
    iris = v.Iris(BASE_URL + "/")
    assert iris.course("a b/c") == f"{BASE_URL}/xapi/activities/course/a%20b%2Fc"
    assert iris.library("ä") == f"{BASE_URL}/xapi/activities/library/%C3%A4"


def test_every_statement_is_grouped_by_its_library_with_extensions() -> None:
    library_iri = f"{BASE_URL}/xapi/activities/library/inari-main"
    for name, statement in EXAMPLES.items():
        if name == "statement_voided":
            continue
        context = statement.data["context"]
        grouping_ids = [a["id"] for a in context["contextActivities"]["grouping"]]
        assert library_iri in grouping_ids, name
        assert context["platform"] == "Liboppi"
        assert context["extensions"] == {
            f"{BASE_URL}/xapi/extensions/library-id": "inari-main",
            f"{BASE_URL}/xapi/extensions/municipality": "Inari",
            f"{BASE_URL}/xapi/extensions/region": "Lappi",
        } | (
            {
                f"{BASE_URL}/xapi/extensions/assignee": {
                    "objectType": "Agent",
                    "account": {"homePage": BASE_URL, "name": "u-7f3a9c"},
                }
            }
            if name == "plan_assigned"
            else {}
        )


def test_plan_is_grouping_and_also_parent_when_the_event_serves_a_plan_item() -> None:
    plan_iri = f"{BASE_URL}/xapi/activities/plan/perehdytys-2026"
    served = EXAMPLES["module_experienced_for_plan"].data["context"]["contextActivities"]
    assert plan_iri in [a["id"] for a in served["grouping"]]
    assert [a["id"] for a in served["parent"]] == [
        f"{BASE_URL}/xapi/activities/course/digituki-perusteet",
        plan_iri,
    ]
    only_grouped = s.module_experienced(
        learner(), COURSE, MODULE, plan=s.PlanLink("perehdytys-2026")
    ).data["context"]["contextActivities"]
    assert plan_iri in [a["id"] for a in only_grouped["grouping"]]
    assert plan_iri not in [a["id"] for a in only_grouped["parent"]]


def test_attempt_statements_carry_the_registration() -> None:
    for name in (
        "quiz_attempted",
        "question_answered_choice",
        "quiz_passed",
        "quiz_failed",
        "survey_responded",
    ):
        assert EXAMPLES[name].data["context"]["registration"] == str(REGISTRATION), name
    assert "registration" not in EXAMPLES["module_completed"].data["context"]


def test_passed_and_failed_report_score_success_completion_duration() -> None:
    passed = EXAMPLES["quiz_passed"].data["result"]
    assert passed == {
        "score": {"raw": 7, "min": 0, "max": 9, "scaled": 0.7778},
        "success": True,
        "completion": True,
        "duration": "PT4M3.2S",
    }
    failed = EXAMPLES["quiz_failed"].data
    assert failed["verb"]["id"] == "http://adlnet.gov/expapi/verbs/failed"
    assert failed["result"]["success"] is False


def test_voiding_statement_refers_to_the_voided_statement() -> None:
    data = EXAMPLES["statement_voided"].data
    assert data["verb"]["id"] == "http://adlnet.gov/expapi/verbs/voided"
    assert data["object"] == {
        "objectType": "StatementRef",
        "id": "0d6f9d4e-8a55-4c7b-b3a2-5f1e2d3c4b5a",
    }
    assert "context" not in data


def test_empty_response_is_left_out() -> None:
    statement = s.question_answered(
        learner(), QUIZ, CHOICE_QUESTION, "", registration=REGISTRATION, success=False
    )
    assert statement.data["result"] == {"success": False}
    BaseXapiStatement.model_validate(json.loads(s.serialise(statement)))


@pytest.mark.parametrize(
    "interaction",
    [
        {"interactionType": "multiple"},
        {"interactionType": "true-false", "choices": [{"id": "a"}]},
        {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]},
        {"interactionType": "choice", "choices": [{"id": "a b"}]},
        {"interactionType": "choice", "choices": [{"id": "a", "label": "A"}]},
        {"interactionType": "choice", "correctResponsesPattern": "a"},
        {"interactionType": "choice", "correctResponsesPattern": [""]},
    ],
)
def test_invalid_interactions_are_rejected(interaction: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        s.question_answered(
            learner(), QUIZ, s.Question("q", "Q", interaction), "a", registration=REGISTRATION
        )


@pytest.mark.parametrize("bad", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_registration_and_ids_must_be_rfc_4122_uuids(bad: str) -> None:
    with pytest.raises(ValueError, match="UUID"):
        s.quiz_attempted(learner(), QUIZ, registration=bad)
    with pytest.raises(ValueError, match="UUID"):
        s.module_experienced(learner(), COURSE, MODULE, id_factory=lambda: bad)


@pytest.mark.parametrize(
    "base_url", ["oppi.example.fi", "ftp://oppi.example.fi", "https://oppi.example.fi/?a=1"]
)
def test_base_url_must_be_a_plain_http_url(base_url: str) -> None:
    with pytest.raises(ValueError, match="base URL"):
        s.Origin(base_url, "u-1", INARI)


def test_same_inputs_give_the_same_bytes() -> None:
    first = build_examples(id_factory=sequential_ids(), clock=FakeClock())
    second = build_examples(id_factory=sequential_ids(), clock=FakeClock())
    assert [s.serialise(x) for x in first.values()] == [s.serialise(x) for x in second.values()]


MOVED = s.Library(
    id="rovaniemi-main",
    name={"fi": "Rovaniemen kaupunginkirjasto"},
    municipality="Rovaniemi",
    region="Lappi",
)


def test_with_origin_gives_what_the_builder_gives_for_the_new_origin() -> None:
    old, new = learner("u-old"), learner("u-new", library=MOVED)
    built_old = build_examples(old)
    built_new = build_examples(new)
    for name in sorted(set(built_old) - {"plan_assigned", "statement_voided"}):
        moved = s.with_origin(built_old[name], old, new)
        assert s.serialise(moved) == s.serialise(built_new[name]), name
        assert (moved.id, moved.timestamp) == (built_old[name].id, built_old[name].timestamp)
    # The statement it was given is left as it was.
    assert build_examples(old)["quiz_passed"].data == built_old["quiz_passed"].data


def test_with_origin_leaves_what_another_origin_built() -> None:
    voided = build_examples()["statement_voided"]
    assert s.with_origin(voided, learner("u-old"), learner("u-new", library=MOVED)) == voided
    with pytest.raises(ValueError, match="URL or language"):
        s.with_origin(voided, learner(), s.Origin(BASE_URL, "u-7f3a9c", MOVED, language="sv"))


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_stored_bytes_are_the_statement_encoded_whole(name: str) -> None:
    # The builders join parts encoded once (``Prepared``): the result must be exactly what
    # encoding the whole statement gives.
    statement = EXAMPLES[name]
    whole = json.dumps(
        statement.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"), allow_nan=False
    )
    assert s.serialise(statement) == whole.encode("utf-8")


text = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1).filter(str.strip)


@given(prompt=text, option=text, response=text, seconds=st.floats(0, 10**6))
def test_prepared_answers_give_what_the_builder_gives(
    prompt: str, option: str, response: str, seconds: float
) -> None:
    question = s.Question(
        "q-1",
        {"fi": prompt},
        {"interactionType": "choice", "choices": [{"id": "a", "description": {"fi": option}}]},
    )
    prepared = s.answering(learner(), QUIZ, question, registration=REGISTRATION, course=COURSE)
    parts = json.dumps(prepared.parts, sort_keys=True)
    for success in (True, False):
        kw = {"id_factory": sequential_ids(), "clock": FakeClock()}
        built = s.question_answered(
            learner(),
            QUIZ,
            question,
            response,
            registration=REGISTRATION,
            success=success,
            duration=seconds,
            course=COURSE,
            **kw,
        )
        result = s.answer_result(response, success=success, duration=seconds)
        again = prepared.statement(result=result, id_factory=sequential_ids(), clock=FakeClock())
        assert again == built and s.serialise(again) == s.serialise(built)
        whole = json.dumps(again.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        assert s.serialise(again) == whole.encode("utf-8")
    assert json.dumps(prepared.parts, sort_keys=True) == parts  # shared parts left as they were


def test_origin_and_content_keys_tell_apart_what_statements_take_from_them() -> None:
    assert learner().key() == learner().key()
    assert learner().key() != learner("u-other").key()
    assert learner().key() != learner(library=MOVED).key()
    renamed = s.Library(INARI.id, {"fi": "Inarin kirjasto"}, INARI.municipality, INARI.region)
    assert learner().key() != learner(library=renamed).key()
    assert COURSE.key() == s.Content(COURSE.id, dict(COURSE.name)).key()
    assert COURSE.key() != s.Content(COURSE.id, {"fi": "Toinen nimi"}).key()
    hash((learner().key(), COURSE.key()))


@pytest.mark.parametrize(
    "parts",
    [{}, {"verb": {"id": "v"}}, {"actor": {"a": 1}}, {"context": {"ä": "\"'\\\n"}, "zz": [1]}],
)
@pytest.mark.parametrize("result", [None, {"response": "a[,]b", "success": True}])
def test_prepared_parts_of_any_keys_encode_as_the_whole(parts, result) -> None:
    statement = s.Prepared.of(parts).statement(result=result, id_factory=sequential_ids())
    whole = json.dumps(statement.data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    assert s.serialise(statement) == whole.encode("utf-8")


def test_a_prepared_statement_keeps_its_own_members() -> None:
    with pytest.raises(ValueError, match="its own"):
        s.Prepared.of({"id": "x"})
