"""Seeded draws and shuffles: the same seed gives the same order, and rules are honoured."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from liboppi.quiz.format import parse_quiz
from liboppi.quiz.order import draw_questions, option_order
from liboppi.quiz.registry import get_question_type

POOL_QUIZ = parse_quiz(
    "pool.md",
    "---\nid: pool\ntitle: Pool\nshuffle_questions: true\ndraw:\n"
    "  - {tag: koha, count: 2}\n  - {tag: finna, count: 1}\n---\n\n"
    + "\n".join(
        f"## {name}\ntype: short\naccept: [a]\n{tags}\nQuestion {name}?\n"
        for name, tags in [
            ("koha-1", "tags: [koha]\n"),
            ("koha-2", "tags: [koha]\n"),
            ("koha-3", "tags: [koha]\n"),
            ("finna-1", "tags: [finna]\n"),
            ("finna-2", "tags: [finna, lainaus]\n"),
            ("fixed-1", ""),
            ("fixed-2", "tags: [lainaus]\n"),
        ]
    ),
)

OPTIONS_QUIZ = parse_quiz(
    "options.md",
    """\
---
id: options
title: Options
---

## pick
type: single

Pick.

- [x] A
- [ ] B
- [ ] C
- [ ] D
- [ ] E

## steps
type: ordering

Order.

1. one
2. two

## long-steps
type: ordering

Order.

1. one
2. two
3. three
4. four
5. five

## pairs
type: matching

Match.

- a -> 1
- b -> 2
- c -> 3

## scale
type: likert

How sure?

- Not
- Somewhat
- Very
""",
)


def test_the_same_seed_draws_the_same_questions_in_the_same_order() -> None:
    assert draw_questions(POOL_QUIZ, 42) == draw_questions(POOL_QUIZ, 42)
    assert draw_questions(POOL_QUIZ, "attempt-7") == draw_questions(POOL_QUIZ, "attempt-7")


def test_a_draw_takes_count_questions_per_tag_and_every_fixed_question() -> None:
    for seed in range(50):
        drawn = draw_questions(POOL_QUIZ, seed)
        assert len(drawn) == 5
        assert sum(name.startswith("koha") for name in drawn) == 2
        assert sum(name.startswith("finna") for name in drawn) == 1
        assert {"fixed-1", "fixed-2"} <= set(drawn)


def test_different_seeds_draw_different_questions() -> None:
    draws = {tuple(sorted(draw_questions(POOL_QUIZ, seed))) for seed in range(50)}
    assert len(draws) == 6, "3 ways to draw 2 of 3 koha times 2 ways to draw 1 of 2 finna"


def test_every_pool_question_gets_drawn_sometimes() -> None:
    counts = Counter(name for seed in range(200) for name in draw_questions(POOL_QUIZ, seed))
    assert set(counts) == {question.id for question in POOL_QUIZ.questions}


def test_without_shuffle_questions_keep_file_order() -> None:
    quiz = replace(POOL_QUIZ, settings=replace(POOL_QUIZ.settings, shuffle_questions=False))
    file_order = [question.id for question in quiz.questions]
    for seed in range(20):
        drawn = draw_questions(quiz, seed)
        assert drawn == [name for name in file_order if name in drawn]


def test_shuffle_questions_changes_the_order_for_some_seeds() -> None:
    quiz = replace(POOL_QUIZ, settings=replace(POOL_QUIZ.settings, draw=()))
    file_order = [question.id for question in quiz.questions]
    orders = [draw_questions(quiz, seed) for seed in range(20)]
    assert all(sorted(order) == sorted(file_order) for order in orders)
    assert any(order != file_order for order in orders)


def written(name: str) -> list[str]:
    """Return a question's option ids in written order."""
    question = OPTIONS_QUIZ.get_question(name)
    return list(get_question_type(question.type).option_ids(question))


def test_the_same_seed_shuffles_options_the_same_way() -> None:
    question = OPTIONS_QUIZ.get_question("pick")
    assert option_order(question, 5) == option_order(question, 5)
    orders = {tuple(option_order(question, seed)) for seed in range(30)}
    assert len(orders) > 10
    assert all(sorted(order) == sorted(written("pick")) for order in orders)


def test_options_keep_written_order_when_shuffling_is_off() -> None:
    question = OPTIONS_QUIZ.get_question("pick")
    assert option_order(question, 5, shuffle=False) == written("pick")


def test_ordering_items_are_never_shown_in_the_correct_order() -> None:
    for name in ("steps", "long-steps"):
        question = OPTIONS_QUIZ.get_question(name)
        for seed in range(300):
            order = option_order(question, seed, shuffle=False)
            assert order != written(name)
            assert sorted(order) == sorted(written(name))


def test_matching_targets_are_shuffled_even_when_shuffling_is_off() -> None:
    question = OPTIONS_QUIZ.get_question("pairs")
    orders = {tuple(option_order(question, seed, shuffle=False)) for seed in range(30)}
    assert tuple(written("pairs")) not in orders
    assert len(orders) > 1


def test_likert_scales_are_never_shuffled() -> None:
    question = OPTIONS_QUIZ.get_question("scale")
    assert all(option_order(question, seed) == ["1", "2", "3"] for seed in range(20))
