"""Reading YAML mappings with libyaml gives what PyYAML's own loader gives, problems included."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from liboppi.content import yaml_source
from liboppi.content.problems import ContentError
from liboppi.content.yaml_source import parse_yaml_mapping

PATH = "courses/p/01-a.md"

# Lines of front matter as editors write them (and mistype them), with the characters on
# which libyaml and PyYAML's reader disagree: CR, tab, byte order mark, NEL, U+2028.
_LINES = [
    "id: a\n", "title: Kirjasto ä\n", "tags: [a, b]\n", "objectives:\n", "  - Osaa\n",
    "- x\n", "estimated_minutes: 15\n", "when: 2024-13-45\n", "? k\n", "&a x\n", "*a\n",
    "!!str y\n", "%YAML 1.1\n", "---\n", "...\n", "'q\n", '"\\x\n', "t: |\n  b\n",
    "a: b: c\n", "{a: 1}\n", "x: y #c\n", "x:\ty\n", "0:\r", "\ufeff", "\t", " ", "\r\n",
    "\x85", "\u2028", "\x01", ": \n", "z: [\n", "a: 'ä\n",
]  # fmt: skip
yaml_texts = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.sampled_from("-:[]{}#&*!|>'\"%@`,?~ \t\n\r.09aä\ufeff\x85"), max_size=80),
    st.lists(st.sampled_from(_LINES), max_size=12).map("".join),
    st.dictionaries(st.text(max_size=6), st.text(max_size=10), max_size=4).map(
        lambda data: yaml.safe_dump(data, allow_unicode=True)
    ),
)


def _read(text: str) -> object:
    """What parse_yaml_mapping makes of ``text``: the mapping and positions, or the problems."""
    try:
        mapping = parse_yaml_mapping(text, PATH, 2)
    except ContentError as error:
        return ("problems", error.problems)
    # repr: a NaN value is not equal to itself.
    return ("mapping", repr(mapping.data), mapping.key_positions, mapping.item_positions)


@given(text=yaml_texts)
@example(text="? !")  # the non-specific tag with no value: libyaml said "", PyYAML null
@example(text="a: !\nb: 1")
@settings(deadline=None, max_examples=500, suppress_health_check=[HealthCheck.too_slow])
def test_libyaml_reads_any_text_as_the_python_loader_does(text: str) -> None:
    fast = _read(text)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(yaml_source, "_LIBYAML_LOADER", None)
        slow = _read(text)

    assert fast == slow


def test_a_plain_front_matter_is_read_by_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    if yaml_source._LIBYAML_LOADER is None:
        pytest.skip("PyYAML was built without libyaml")

    def refuse(*args: object) -> None:
        raise AssertionError("read by the pure-Python loader")

    monkeypatch.setattr(yaml.SafeLoader, "__init__", refuse)
    mapping = parse_yaml_mapping("id: a\ntitle: Ä\ntags:\n  - x\n  - y\n", PATH, 2)

    assert mapping.data == {"id": "a", "title": "Ä", "tags": ["x", "y"]}
    assert mapping.key_positions["tags"] == yaml_source.Position(4, 1)
    assert mapping.item_positions["tags"] == (
        yaml_source.Position(5, 5),
        yaml_source.Position(6, 5),
    )


def test_a_tab_that_libyaml_accepts_is_still_reported_as_pythons_loader_does() -> None:
    # libyaml reads "title:\tA" as a mapping; PyYAML refuses the tab, and that is reported.
    with pytest.raises(ContentError) as raised:
        parse_yaml_mapping("id: a\ntitle:\tA\n", PATH, 2)

    assert [str(problem) for problem in raised.value.problems] == [
        f"{PATH}:3:7: YAML syntax error: while scanning for the next token, "
        "found character '\\t' that cannot start any token"
    ]
