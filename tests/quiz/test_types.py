"""Each question type: grading tables, response normalising, learner views and xAPI."""

from __future__ import annotations

import json
from typing import Any

import pytest
from ralph.models.xapi.base.unnested_objects import BaseXapiActivityInteractionDefinition

from liboppi.quiz.format import parse_quiz
from liboppi.quiz.grading import grade
from liboppi.quiz.order import option_order
from liboppi.quiz.registry import QUESTION_TYPES, UnknownQuestionType, get_question_type
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import ResponseInvalid
from tests.quiz.public_views import VIEW_KEYS, view_keys

EXAMPLES = """\
---
id: types-quiz
title: Every type
---

## single
type: single

Which is free?

- [ ] Late fees
  > SECRET-FEEDBACK-late
- [x] Borrowing
  > SECRET-FEEDBACK-borrowing
- [ ] Printing

> SECRET-GENERAL-single

## multiple
type: multiple
points: 2

Which are library tasks?

- [x] Access to materials
  > SECRET-FEEDBACK-access
- [x] Promoting reading
- [ ] Building permits
  > SECRET-FEEDBACK-permits
- [ ] Tax collection

## multiple-three
type: multiple

Choose all that apply.

- [x] One
- [x] Two
- [x] Three
- [ ] Four

## truefalse
type: truefalse
answer: true
feedback_true: "SECRET-FEEDBACK-true"
feedback_false: "SECRET-FEEDBACK-false"

A library may charge for interlibrary loans.

## short
type: short
accept: ["kaukolaina", "Kaukolainaus", "interlibrary   loan"]

What is a loan from another library called?

## short-strict
type: short
accept: ["Koha"]
case_sensitive: true

Name the library system.

## short-diacritics
type: short
accept: ["sää"]
ignore_diacritics: true

Weather in Finnish?

## numeric
type: numeric
answer: 987654
tolerance: 0.5

Type the number.

## numeric-decimal
type: numeric
answer: 1.1
tolerance: 0.1

Type about one.

## numeric-range
type: numeric
range: [10, 20]

Any number from ten to twenty.

## matching
type: matching

Match.

- Koha -> library system
- Finna -> search service
- Melinda -> metadata database
- Vaski -> library system

## ordering
type: ordering

Order the checkout.

1. Identify the customer
2. Check out the items
3. Tell the due date
4. Say goodbye

## likert
type: likert

How well can you place holds?

- Not at all
- With help
- On my own
"""

QUIZ = parse_quiz("types.md", EXAMPLES)
Q = {question.id: question for question in QUIZ.questions}


def option_id(question: Question, text: str) -> str:
    """Return the id of the option, item, target or source with ``text``."""
    data = question.data
    for attribute in ("options", "items"):
        for component in getattr(data, attribute, ()):
            if component.text == text:
                return component.id
    for pair in getattr(data, "pairs", ()):
        if pair.source == text:
            return pair.source_id
        if pair.target == text:
            return pair.target_id
    raise KeyError(text)


def ids(question: Question, *texts: str) -> list[str]:
    """Return the ids of several components."""
    return [option_id(question, text) for text in texts]


@pytest.mark.parametrize(
    ("chosen", "score", "is_correct", "feedback"),
    [
        ("Borrowing", 1.0, True, ("SECRET-FEEDBACK-borrowing",)),
        ("Late fees", 0.0, False, ("SECRET-FEEDBACK-late",)),
        ("Printing", 0.0, False, ()),
    ],
)
def test_single_choice_scores_only_the_correct_option(
    chosen: str, score: float, is_correct: bool, feedback: tuple[str, ...]
) -> None:
    result = grade(Q["single"], option_id(Q["single"], chosen))
    assert (result.score, result.is_correct, result.feedback) == (score, is_correct, feedback)
    assert result.correct_response_summary == "Borrowing"


def test_single_choice_accepts_a_one_element_form_list() -> None:
    assert grade(Q["single"], [option_id(Q["single"], "Borrowing")]).score == 1.0


def test_single_choice_left_empty_is_unanswered_and_scores_zero() -> None:
    for empty in (None, "", [], "   "):
        result = grade(Q["single"], empty)
        assert (result.score, result.is_answered, result.is_valid) == (0.0, False, True)


def test_single_choice_with_two_choices_is_invalid() -> None:
    result = grade(Q["single"], ids(Q["single"], "Borrowing", "Late fees"))
    assert (result.score, result.is_correct, result.is_valid) == (0.0, False, False)
    assert result.invalid_reason == "only one answer may be given"


def test_single_choice_with_an_unknown_option_id_is_invalid() -> None:
    result = grade(Q["single"], "no-such-option")
    assert (result.score, result.is_valid) == (0.0, False)


@pytest.mark.parametrize(
    ("chosen", "score", "is_correct"),
    [
        (["Access to materials", "Promoting reading"], 1.0, True),
        (["Access to materials"], 0.5, False),
        (["Access to materials", "Building permits"], 0.0, False),
        (["Access to materials", "Promoting reading", "Building permits"], 0.5, False),
        (["Building permits"], 0.0, False),
        (["Building permits", "Tax collection"], 0.0, False),
        (
            ["Access to materials", "Promoting reading", "Building permits", "Tax collection"],
            0.0,
            False,
        ),
    ],
)
def test_multiple_choice_gives_plus_and_minus_one_kth_floored_at_zero(
    chosen: list[str], score: float, is_correct: bool
) -> None:
    result = grade(Q["multiple"], ids(Q["multiple"], *chosen))
    assert (result.score, result.is_correct) == (score, is_correct)


def test_multiple_choice_with_three_correct_scores_in_thirds() -> None:
    question = Q["multiple-three"]
    assert grade(question, ids(question, "One")).score == pytest.approx(1 / 3)
    assert grade(question, ids(question, "One", "Two", "Three", "Four")).score == pytest.approx(
        2 / 3
    )


def test_multiple_choice_feedback_follows_the_chosen_options_in_written_order() -> None:
    question = Q["multiple"]
    result = grade(question, ids(question, "Building permits", "Access to materials"))
    assert result.feedback == ("SECRET-FEEDBACK-access", "SECRET-FEEDBACK-permits")


def test_multiple_choice_ignores_repeated_and_empty_form_values() -> None:
    question = Q["multiple"]
    access = option_id(question, "Access to materials")
    reading = option_id(question, "Promoting reading")
    assert grade(question, [access, access, "", reading]).score == 1.0
    assert grade(question, access).score == 0.5


@pytest.mark.parametrize(
    ("response", "score", "feedback"),
    [
        (True, 1.0, ("SECRET-FEEDBACK-true",)),
        ("true", 1.0, ("SECRET-FEEDBACK-true",)),
        (["TRUE"], 1.0, ("SECRET-FEEDBACK-true",)),
        (False, 0.0, ("SECRET-FEEDBACK-false",)),
        ("false", 0.0, ("SECRET-FEEDBACK-false",)),
    ],
)
def test_true_false_scores_the_judgement_and_gives_its_feedback(
    response: object, score: float, feedback: tuple[str, ...]
) -> None:
    result = grade(Q["truefalse"], response)
    assert (result.score, result.feedback, result.correct_response_summary) == (
        score,
        feedback,
        "true",
    )


def test_true_false_refuses_other_words() -> None:
    assert grade(Q["truefalse"], "maybe").is_valid is False
    assert grade(Q["truefalse"], "").is_answered is False


@pytest.mark.parametrize(
    ("question_id", "typed", "score"),
    [
        ("short", "kaukolaina", 1.0),
        ("short", "  KAUKOLAINA  ", 1.0),
        ("short", "kaukolainaus", 1.0),
        ("short", "interlibrary loan", 1.0),
        ("short", "Interlibrary\t \n loan", 1.0),
        ("short", "kauko laina", 0.0),
        ("short", "kaukolainat", 0.0),
        ("short-strict", "Koha", 1.0),
        ("short-strict", "koha", 0.0),
        ("short-strict", " Koha ", 1.0),
        ("short-diacritics", "saa", 1.0),
        ("short-diacritics", "SÄÄ", 1.0),
        ("short", "kaukola\u0131na", 0.0),
    ],
)
def test_short_answers_match_as_their_switches_say(
    question_id: str, typed: str, score: float
) -> None:
    assert grade(Q[question_id], typed).score == score


def test_short_answers_keep_diacritics_by_default(question_from: Any) -> None:
    question = question_from('## q\ntype: short\naccept: ["sää"]\n\nWeather?')
    assert grade(question, "saa").score == 0.0
    assert grade(question, "sää").score == 1.0
    assert grade(question, "sa\u0308a\u0308").score == 1.0, "decomposed ä equals composed ä"


@pytest.mark.parametrize(
    ("question_id", "typed", "score"),
    [
        ("numeric", "987654", 1.0),
        ("numeric", "987653,5", 1.0),
        ("numeric", "987654.5", 1.0),
        ("numeric", "987654.51", 0.0),
        ("numeric", "+987654", 1.0),
        ("numeric", "987 654", 1.0),
        ("numeric", "987\u00a0654", 1.0),
        ("numeric", "9.87654e5", 1.0),
        ("numeric", 987654, 1.0),
        ("numeric", 987654.4, 1.0),
        ("numeric", "\u2212987654", 0.0),
        ("numeric-decimal", "1.0", 1.0),
        ("numeric-decimal", "1,2", 1.0),
        ("numeric-decimal", "0,99", 0.0),
        ("numeric-range", "10", 1.0),
        ("numeric-range", "20", 1.0),
        ("numeric-range", "15,5", 1.0),
        ("numeric-range", "9.999", 0.0),
        ("numeric-range", "20,0001", 0.0),
    ],
)
def test_numeric_answers_are_compared_as_decimals(
    question_id: str, typed: object, score: float
) -> None:
    assert grade(Q[question_id], typed).score == score


@pytest.mark.parametrize(
    "typed", ["nan", "inf", "-Infinity", "1,5,5", "1.000,5", "0x10", "lots", "1e99999", "١٢"]
)
def test_numeric_answers_that_are_not_numbers_are_invalid(typed: str) -> None:
    result = grade(Q["numeric"], typed)
    assert (result.score, result.is_valid) == (0.0, False)
    assert result.invalid_reason == "the answer must be a number, such as 12 or 1,5"


def test_numeric_refuses_non_finite_floats() -> None:
    assert grade(Q["numeric"], float("nan")).is_valid is False
    assert grade(Q["numeric"], float("inf")).is_valid is False


def test_numeric_summaries_show_what_is_accepted() -> None:
    assert grade(Q["numeric"], "1").correct_response_summary == "987654 ± 0.5"
    assert grade(Q["numeric-range"], "1").correct_response_summary == "10–20"


def matching_response(pairs: dict[str, str]) -> dict[str, str]:
    """Return a matching response from left text → right text."""
    question = Q["matching"]
    return {option_id(question, left): option_id(question, right) for left, right in pairs.items()}


CORRECT_PAIRS = {
    "Koha": "library system",
    "Finna": "search service",
    "Melinda": "metadata database",
    "Vaski": "library system",
}


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 1.0),
        ({"Koha": "search service"}, 0.75),
        ({"Koha": "search service", "Finna": "library system"}, 0.5),
        ({"Vaski": "metadata database", "Melinda": "library system"}, 0.5),
    ],
)
def test_matching_scores_the_share_of_lefts_matched(changes: dict[str, str], score: float) -> None:
    result = grade(Q["matching"], matching_response(CORRECT_PAIRS | changes))
    assert (result.score, result.is_correct) == (score, score == 1.0)


def test_matching_with_some_lefts_unmatched_scores_the_matched_ones() -> None:
    assert grade(Q["matching"], matching_response({"Koha": "library system"})).score == 0.25


def test_matching_accepts_form_lists_and_pairs() -> None:
    response = matching_response(CORRECT_PAIRS)
    assert grade(Q["matching"], {key: [value] for key, value in response.items()}).score == 1.0
    assert grade(Q["matching"], [[key, value] for key, value in response.items()]).score == 1.0


def test_matching_with_an_unknown_right_is_invalid() -> None:
    response = matching_response(CORRECT_PAIRS) | {option_id(Q["matching"], "Koha"): "nope"}
    assert grade(Q["matching"], response).is_valid is False


STEPS = ["Identify the customer", "Check out the items", "Tell the due date", "Say goodbye"]


@pytest.mark.parametrize(
    ("order", "score"),
    [
        ([0, 1, 2, 3], 1.0),
        ([1, 0, 2, 3], 0.5),
        ([0, 1, 3, 2], 0.5),
        ([3, 2, 1, 0], 0.0),
        ([1, 2, 3, 0], 0.0),
        ([0, 2, 1, 3], 0.5),
    ],
)
def test_ordering_scores_the_share_of_items_in_their_correct_position(
    order: list[int], score: float
) -> None:
    question = Q["ordering"]
    result = grade(question, ids(question, *[STEPS[index] for index in order]))
    assert (result.score, result.is_correct) == (score, score == 1.0)


def test_ordering_accepts_positions_from_a_form() -> None:
    question = Q["ordering"]
    positions = {option_id(question, text): str(number) for number, text in enumerate(STEPS, 1)}
    assert grade(question, positions).score == 1.0


@pytest.mark.parametrize(
    "response",
    [
        "missing",
        ["a", "a"],
        {"x": "1", "y": "1"},
        {"x": "first"},
    ],
)
def test_ordering_that_does_not_place_every_item_once_is_invalid(response: object) -> None:
    result = grade(Q["ordering"], response)
    assert (result.score, result.is_valid) == (0.0, False)


def test_ordering_missing_an_item_is_invalid() -> None:
    question = Q["ordering"]
    assert grade(question, ids(question, *STEPS[:3])).is_valid is False


@pytest.mark.parametrize("response", [None, "1", "3", ["2"], 2])
def test_likert_is_ungraded_and_always_answered(response: object) -> None:
    result = grade(Q["likert"], response)
    assert (result.score, result.is_graded, result.is_answered, result.is_valid) == (
        None,
        False,
        True,
        True,
    )


def test_likert_outside_the_scale_is_invalid_but_still_ungraded() -> None:
    result = grade(Q["likert"], "9")
    assert (result.score, result.is_valid) == (None, False)


def public_view_of(question: Question, seed: int = 7) -> dict[str, Any]:
    """Return the public view with the order an attempt would show."""
    question_type = get_question_type(question.type)
    return question_type.public_view(question, option_order=option_order(question, seed))


@pytest.mark.parametrize("question", QUIZ.questions, ids=lambda question: question.id)
def test_public_views_hold_no_answers_and_no_feedback(question: Question) -> None:
    view = public_view_of(question)
    dumped = json.dumps(view, ensure_ascii=False)
    assert view_keys(view) <= VIEW_KEYS
    assert "SECRET" not in dumped
    assert "correct" not in dumped
    assert "[x]" not in dumped
    data = question.data
    for secret in getattr(data, "accept", ()):
        assert secret not in dumped
    if question.type == "numeric":
        assert "987654" not in dumped and "1.1" not in dumped and "20" not in dumped
    if question.type == "truefalse":
        assert "answer" not in view


def test_public_view_of_ordering_lists_items_in_the_shuffled_order() -> None:
    question = Q["ordering"]
    order = option_order(question, 7)
    view = public_view_of(question, 7)
    assert [item["id"] for item in view["items"]] == order
    assert order != ids(question, *STEPS)


def test_public_view_of_matching_lists_targets_in_the_shuffled_order() -> None:
    question = Q["matching"]
    view = public_view_of(question, 3)
    assert [target["id"] for target in view["targets"]] == option_order(question, 3)
    assert len(view["targets"]) == 3, "a right shared by two lefts is listed once"


def test_ids_do_not_reveal_the_written_position() -> None:
    swapped = EXAMPLES.replace(
        "1. Identify the customer\n2. Check out the items",
        "1. Check out the items\n2. Identify the customer",
    )
    before = Q["ordering"]
    after = parse_quiz("swapped.md", swapped).get_question("ordering")
    assert option_id(before, "Identify the customer") == option_id(after, "Identify the customer")


def test_public_view_refuses_an_order_that_is_not_the_options() -> None:
    question = Q["single"]
    with pytest.raises(ValueError):
        get_question_type("single").public_view(question, option_order=["x"])


def test_review_view_marks_the_choice_and_the_correct_option() -> None:
    question = Q["single"]
    order = option_order(question, 1)
    view = get_question_type("single").review_view(
        question, option_id(question, "Late fees"), option_order=order
    )
    marks = {
        option["text"]: (option["is_chosen"], option["is_correct"]) for option in view["options"]
    }
    assert marks == {
        "Late fees": (True, False),
        "Borrowing": (False, True),
        "Printing": (False, False),
    }


def test_review_view_of_ordering_gives_each_items_positions() -> None:
    question = Q["ordering"]
    response = ids(question, *reversed(STEPS))
    view = get_question_type("ordering").review_view(
        question, response, option_order=option_order(question, 1)
    )
    positions = {
        item["text"]: (item["chosen_position"], item["correct_position"]) for item in view["items"]
    }
    assert positions["Identify the customer"] == (4, 1)


@pytest.mark.parametrize("question", QUIZ.questions, ids=lambda question: question.id)
def test_xapi_interactions_are_valid_activity_definitions(question: Question) -> None:
    interaction = get_question_type(question.type).xapi_interaction(question, lang="fi")
    BaseXapiActivityInteractionDefinition.model_validate(interaction)
    assert interaction["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"


@pytest.mark.parametrize(
    ("question_id", "interaction_type", "patterns"),
    [
        ("truefalse", "true-false", ["true"]),
        ("short", "fill-in", ["kaukolaina", "Kaukolainaus", "interlibrary loan"]),
        ("short-strict", "fill-in", ["{case_matters=true}Koha"]),
        ("numeric", "numeric", ["987653.5[:]987654.5"]),
        ("numeric-decimal", "numeric", ["1[:]1.2"]),
        ("numeric-range", "numeric", ["10[:]20"]),
    ],
)
def test_xapi_patterns_follow_the_xapi_spec(
    question_id: str, interaction_type: str, patterns: list[str]
) -> None:
    question = Q[question_id]
    interaction = get_question_type(question.type).xapi_interaction(question)
    assert interaction["interactionType"] == interaction_type
    assert interaction["correctResponsesPattern"] == patterns


def test_xapi_choice_pattern_lists_the_correct_ids() -> None:
    question = Q["multiple"]
    interaction = get_question_type("multiple").xapi_interaction(question, lang="en")
    correct = ids(question, "Access to materials", "Promoting reading")
    assert interaction["interactionType"] == "choice"
    assert interaction["correctResponsesPattern"] == ["[,]".join(correct)]
    assert interaction["choices"][0] == {
        "id": correct[0],
        "description": {"en": "Access to materials"},
    }


def test_xapi_matching_and_sequencing_patterns_use_the_component_ids() -> None:
    matching = Q["matching"]
    pattern = get_question_type("matching").xapi_interaction(matching)["correctResponsesPattern"]
    koha = option_id(matching, "Koha")
    system = option_id(matching, "library system")
    assert pattern[0].startswith(f"{koha}[.]{system}[,]")
    ordering = Q["ordering"]
    interaction = get_question_type("ordering").xapi_interaction(ordering)
    assert interaction["interactionType"] == "sequencing"
    assert interaction["correctResponsesPattern"] == ["[,]".join(ids(ordering, *STEPS))]


def test_xapi_likert_lists_its_scale_without_a_correct_answer() -> None:
    interaction = get_question_type("likert").xapi_interaction(Q["likert"], lang="fi")
    assert "correctResponsesPattern" not in interaction
    assert [point["id"] for point in interaction["scale"]] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("question_id", "raw", "expected"),
    [
        ("truefalse", "false", "false"),
        ("numeric", "1 000,50", "1000.5"),
        ("short", "  two   words ", "two words"),
        ("likert", "2", "2"),
    ],
)
def test_xapi_responses_are_written_from_canonical_responses(
    question_id: str, raw: object, expected: str
) -> None:
    question_type = get_question_type(Q[question_id].type)
    response = question_type.normalise_response(raw)
    assert question_type.xapi_response(Q[question_id], response) == expected


def test_normalised_responses_normalise_to_themselves() -> None:
    raws = {
        "single": [option_id(Q["single"], "Borrowing")],
        "multiple": [option_id(Q["multiple"], "Promoting reading"), "x"],
        "truefalse": "TRUE",
        "short": " a  b ",
        "numeric": "1,50",
        "matching": {"a": ["b"]},
        "ordering": {"x": "2", "y": "1"},
        "likert": ["3"],
    }
    for key, raw in raws.items():
        question_type = get_question_type(key)
        once = question_type.normalise_response(raw)
        assert question_type.normalise_response(once) == once
        json.dumps(once)


def test_normalising_junk_raises_response_invalid() -> None:
    with pytest.raises(ResponseInvalid):
        get_question_type("single").normalise_response({"nested": ["junk"]})


def test_the_registry_knows_every_type_by_key() -> None:
    assert list(QUESTION_TYPES) == [
        "single",
        "multiple",
        "truefalse",
        "short",
        "numeric",
        "matching",
        "ordering",
        "likert",
    ]
    assert all(question_type.key == key for key, question_type in QUESTION_TYPES.items())
    with pytest.raises(UnknownQuestionType):
        get_question_type("essay")
