"""Matching (`type: matching`): items `- left -> right`; the learner pairs lefts with rights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from liboppi.content.problems import Problem
from liboppi.quiz.source import Question
from liboppi.quiz.types.base import (
    MAX_RESPONSE_CHARS,
    MAX_RESPONSE_ITEMS,
    ParsedBody,
    QuestionType,
    ResponseInvalid,
    Result,
    Serialised,
    Where,
    content_id,
    in_order,
    invalid,
    item_lines,
    language_map,
    one_form_value,
    reject_option_feedback,
    unanswered,
)

ARROW = "->"


@dataclass(frozen=True, slots=True)
class Pair:
    """A left text (the source) and the right text (the target) it is matched to."""

    source_id: str
    source: str
    target_id: str
    target: str


@dataclass(frozen=True, slots=True)
class MatchingData:
    """The pairs in written order. Several lefts may share one right."""

    pairs: tuple[Pair, ...]

    def targets(self) -> dict[str, str]:
        """Return the distinct right texts by id, in written order."""
        return {pair.target_id: pair.target for pair in self.pairs}

    def summary(self) -> str:
        """Return the pairs, for showing the correct answer."""
        return "; ".join(f"{pair.source} → {pair.target}" for pair in self.pairs)


class Matching(QuestionType[MatchingData]):
    """Pairs; the score is the share of lefts matched to their right.

    The rights are always shown shuffled: in written order they would line up with the
    lefts and give the answer away.
    """

    key = "matching"
    interaction_type = "matching"
    has_answer_list = True
    shuffle = "always"

    def parse(
        self, header: Mapping[str, object], body: ParsedBody, where: Where
    ) -> MatchingData | list[Problem]:
        """Read the `- left -> right` items."""
        problems = reject_option_feedback(body.items, where, self.key)
        pairs: list[Pair] = []
        seen: dict[str, int] = {}
        for item in body.items:
            if item.number is not None:
                problems.append(
                    where.item_problem(item, "pairs are `- left -> right` items, not numbered")
                )
                continue
            left, arrow, right = item.text.partition(ARROW)
            left, right = left.strip(), right.strip()
            if not arrow or not left or not right:
                problems.append(
                    where.item_problem(item, "a pair is written `- left text -> right text`")
                )
                continue
            pair = Pair(content_id(left), left, content_id(right), right)
            if pair.source_id in seen:
                problems.append(
                    where.item_problem(
                        item, f"the same left text is already on line {seen[pair.source_id]}"
                    )
                )
                continue
            seen[pair.source_id] = item.line
            pairs.append(pair)
        if problems:
            return problems
        if len(pairs) < 2:
            return [where.problem("a matching question needs at least 2 pairs `- left -> right`")]
        return MatchingData(tuple(pairs))

    def serialise(self, data: MatchingData) -> Serialised:
        """Write the pairs as `- left -> right` items."""
        lines: list[str] = []
        for pair in data.pairs:
            lines.extend(item_lines("-", f"{pair.source} {ARROW} {pair.target}"))
        return Serialised({}, tuple(lines))

    def option_ids(self, question: Question) -> tuple[str, ...]:
        """Return the target ids: their order is what gets shuffled."""
        return tuple(self.data(question).targets())

    def public_view(self, question: Question, *, option_order: Sequence[str]) -> dict[str, Any]:
        """Return the lefts in written order and the rights in ``option_order``; no pairing."""
        data = self.data(question)
        targets = {
            target_id: {"id": target_id, "text": text} for target_id, text in data.targets().items()
        }
        return self.base_view(question) | {
            "input": "matching",
            "sources": [{"id": pair.source_id, "text": pair.source} for pair in data.pairs],
            "targets": in_order(targets, option_order),
        }

    def review_view(
        self, question: Question, response: object, *, option_order: Sequence[str]
    ) -> dict[str, Any]:
        """Return each left with the right the learner chose and the correct right."""
        view = self.public_view(question, option_order=option_order)
        data = self.data(question)
        try:
            chosen = self.normalise_response(response)
        except ResponseInvalid:
            chosen = {}
        correct = {pair.source_id: pair.target_id for pair in data.pairs}
        for source in view["sources"]:
            source["chosen_target"] = chosen.get(source["id"])
            source["correct_target"] = correct[source["id"]]
        view["correct_response_summary"] = data.summary()
        return view

    def normalise_response(self, raw: object) -> dict[str, str]:
        """Return {left id: right id} from a mapping of form values or a list of pairs."""
        if raw is None:
            return {}
        if isinstance(raw, Mapping):
            entries = list(raw.items())
        elif isinstance(raw, (list, tuple)):
            entries = []
            for entry in raw:
                if not isinstance(entry, (list, tuple)) or len(entry) != 2:
                    raise ResponseInvalid("expected [left id, right id] pairs")
                entries.append((entry[0], entry[1]))
        else:
            raise ResponseInvalid(f"expected a mapping, got {type(raw).__name__}")
        if len(entries) > MAX_RESPONSE_ITEMS:
            raise ResponseInvalid("too many pairs")
        pairs: dict[str, str] = {}
        for source, target in entries:
            if not isinstance(source, str) or len(source) > MAX_RESPONSE_CHARS:
                raise ResponseInvalid("a left id must be text")
            value = one_form_value(target)
            if value is not None:
                pairs[source.strip()] = value
        return dict(sorted(pairs.items()))

    def grade(self, question: Question, response: Any) -> Result:
        """Score the share of lefts matched to their right."""
        data = self.data(question)
        summary = data.summary()
        if not response:
            return unanswered(summary)
        correct = {pair.source_id: pair.target_id for pair in data.pairs}
        targets = data.targets()
        if any(
            source not in correct or target not in targets for source, target in response.items()
        ):
            return invalid("a pair names a text that is not in the question", summary)
        hits = sum(response.get(source) == target for source, target in correct.items())
        return Result(float(Fraction(hits, len(correct))), hits == len(correct), (), summary)

    def xapi_interaction(self, question: Question, *, lang: str = "und") -> dict[str, Any]:
        """Describe the question as a ``matching`` interaction: ``s1[.]t1[,]s2[.]t2``."""
        data = self.data(question)
        pattern = "[,]".join(f"{pair.source_id}[.]{pair.target_id}" for pair in data.pairs)
        return self.xapi_base(question) | {
            "correctResponsesPattern": [pattern],
            "source": [
                {"id": pair.source_id, "description": language_map(pair.source, lang)}
                for pair in data.pairs
            ],
            "target": [
                {"id": target_id, "description": language_map(text, lang)}
                for target_id, text in data.targets().items()
            ],
        }

    def xapi_response(self, question: Question, response: Any) -> str:
        """Return the chosen pairs as ``source[.]target`` joined by ``[,]``."""
        return "[,]".join(f"{source}[.]{target}" for source, target in (response or {}).items())
