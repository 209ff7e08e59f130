"""Vocabulary: verbs with display names in Finnish, Swedish and English; published IRIs."""

from __future__ import annotations

import pytest

from liboppi.xapi import vocabulary as v


@pytest.mark.parametrize("verb", list(v.VERBS.values()), ids=list(v.VERBS))
def test_every_verb_has_fi_sv_en_display_names(verb: v.Verb) -> None:
    assert set(verb.display) == {"fi", "sv", "en"}
    assert all(name.strip() for name in verb.display.values())
    assert verb.iri.startswith(("http://adlnet.gov/expapi/verbs/", "http://activitystrea.ms/"))


def test_the_verbs_the_builders_need_are_adl_ones() -> None:
    for word in (
        "experienced",
        "completed",
        "passed",
        "failed",
        "answered",
        "attempted",
        "responded",
        "attended",
        "shared",
        "voided",
        "progressed",
    ):
        assert v.VERBS[word].iri == f"http://adlnet.gov/expapi/verbs/{word}"


def test_verb_display_cannot_be_changed_in_place() -> None:
    with pytest.raises(TypeError):
        v.COMPLETED.display["fi"] = "muutettu"  # type: ignore[index]


def test_own_iris_live_under_the_instance_base_url() -> None:
    iris = v.Iris("https://oppi.example.fi/")
    assert iris.plan_type == "https://oppi.example.fi/xapi/activity-types/learning-plan"
    assert iris.observation_type == "https://oppi.example.fi/xapi/activity-types/observation"
    assert iris.extension("region") == "https://oppi.example.fi/xapi/extensions/region"
    assert iris.survey_item("s1", "i1") == (
        "https://oppi.example.fi/xapi/activities/survey/s1/item/i1"
    )


@pytest.mark.parametrize("content_id", ["", "   "])
def test_empty_content_ids_are_rejected(content_id: str) -> None:
    with pytest.raises(ValueError, match="content id"):
        v.Iris("https://oppi.example.fi").module(content_id)


@pytest.mark.parametrize(
    ("tag", "valid"),
    [
        ("fi", True),
        ("fi-FI", True),
        ("se", True),
        ("smn", True),
        ("zh-Hant-TW", True),
        ("x-liboppi", True),
        ("fi_FI", False),
        ("f", False),
        ("fi-", False),
        ("", False),
    ],
)
def test_language_tags_follow_rfc_5646(tag: str, valid: bool) -> None:
    assert v.is_language_tag(tag) is valid
