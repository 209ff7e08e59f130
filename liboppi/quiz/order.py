"""Seeded question draws and option shuffles: the same seed always gives the same order.

An attempt stores its seed; every page of the attempt then shows the same questions in
the same order, and a review shows what the learner saw. Shuffling is presentation only:
responses name options by id, never by position.
"""

from __future__ import annotations

import hashlib
import random

from liboppi.quiz.registry import get_question_type
from liboppi.quiz.source import Question, QuizSource

Seed = int | str


def seeded_random(seed: Seed, *parts: str) -> random.Random:
    """Return a generator seeded from ``seed`` and what it is for (quiz or question id)."""
    material = "\x1f".join([repr(seed), *parts]).encode("utf-8", "surrogatepass")
    return random.Random(int.from_bytes(hashlib.sha256(material).digest(), "big"))


def draw_questions(quiz: QuizSource, seed: Seed) -> list[str]:
    """Return the ids of the questions in an attempt, in the order they are shown.

    With ``draw`` rules, each rule draws ``count`` questions at random from those
    carrying its tag; questions carrying no drawn tag are always included. With
    ``shuffle_questions`` the chosen questions are shuffled, else they keep file order.
    """
    generator = seeded_random(seed, "questions", quiz.id)
    drawn_tags = {rule.tag for rule in quiz.settings.draw}
    chosen = {
        question.id
        for question in quiz.questions
        if not any(tag in drawn_tags for tag in question.tags)
    }
    for rule in quiz.settings.draw:
        pool = [
            question.id
            for question in quiz.questions
            if rule.tag in question.tags and question.id not in chosen
        ]
        chosen.update(generator.sample(pool, min(rule.count, len(pool))))
    ids = [question.id for question in quiz.questions if question.id in chosen]
    if quiz.settings.shuffle_questions:
        generator.shuffle(ids)
    return ids


def option_order(question: Question, seed: Seed, *, shuffle: bool = True) -> list[str]:
    """Return the question's option ids in the order the learner sees them.

    ``shuffle`` is the quiz's ``shuffle_options``. Ordering items and matching targets are
    shuffled whatever it says (their written order is the answer); likert scales never
    are. An ordering question is never shown already in the correct order.
    """
    question_type = get_question_type(question.type)
    written = list(question_type.option_ids(question))
    policy = question_type.shuffle
    if policy == "never" or (policy == "setting" and not shuffle) or len(written) < 2:
        return written
    order = list(written)
    seeded_random(seed, "options", question.id).shuffle(order)
    if policy == "always" and order == written:
        order = order[1:] + order[:1]
    return order
