"""Whatever an editor types, loading and checking report problems and rendering succeeds."""

from __future__ import annotations

import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from liboppi.content.frontmatter import MODULE_KEYS
from liboppi.content.lint import check_text, check_tree
from liboppi.content.loader import COURSE_KEYS, load_tree
from liboppi.content.problems import ContentError, Problem
from liboppi.content.render import markdown_parser, parse_body, render_markdown

PATH = "courses/p/01-a.md"

# Characters that steer YAML and Markdown parsers into their less travelled paths.
_SYNTAX = "-:[]{}#&*!|>'\"%@`,?~\\()<>^=_ \t\n\r.0123456789aeiouyäöxj"
syntax_text = st.text(alphabet=st.sampled_from(_SYNTAX), max_size=200)
any_text = st.text(max_size=300)
text_like = st.one_of(any_text, syntax_text)

yaml_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=20),
    st.dates(),
)
yaml_values = st.recursive(
    yaml_scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=10,
)


def _mapping_of(keys: tuple[str, ...]) -> st.SearchStrategy[str]:
    """YAML text for a mapping of the format's own keys to values of any type."""
    return st.dictionaries(
        st.sampled_from(keys) | st.text(max_size=8), yaml_values, max_size=len(keys)
    ).map(lambda data: yaml.safe_dump(data, allow_unicode=True))


front_matter = st.one_of(text_like, _mapping_of(MODULE_KEYS))
markdown_body = st.one_of(
    text_like,
    st.lists(
        st.sampled_from(
            [
                "## Osio\n", "#### Syvä\n", "# Otsikko\n", "::: tip\n", "::: warning x\n", ":::\n",
                "| a | b |\n", "|---|:-:|\n", "[^1]: x\n", "x[^1]\n", "Termi\n", ": selitys\n",
                "![](kuva.png)\n", "[x](../../x.md)\n", "[x](javascript:alert(1))\n", "> lainaus\n",
                "- lista\n", "    koodi\n", "```\n", "\n", "---\n", "<script>\n", "^[inline]\n",
            ]
        ),
        max_size=20,
    ).map("".join),
)  # fmt: skip
module_files = st.one_of(
    text_like,
    st.tuples(front_matter, markdown_body).map(lambda parts: f"---\n{parts[0]}\n---\n{parts[1]}"),
)


def _is_problem_list(problems: object) -> bool:
    return isinstance(problems, list) and all(isinstance(p, Problem) for p in problems)


@given(text=module_files)
@settings(deadline=None)
def test_check_text_returns_problems_for_any_text(text: str) -> None:
    problems = check_text(PATH, text, known_quiz_ids={"q"}, known_module_files={"courses/p/b.md"})

    assert _is_problem_list(problems)
    assert all(problem.line >= 1 and problem.col >= 1 for problem in problems)


@given(body=markdown_body, base=st.sampled_from([None, "/media/p/", "https://cdn.example/x"]))
@settings(deadline=None)
def test_render_never_raises(body: str, base: str | None) -> None:
    rendered = render_markdown(body, base_url_for_images=base, site_host="liboppi.test")

    assert isinstance(rendered.html, str)
    assert "<script" not in rendered.html.lower()
    assert rendered.word_count >= 0


@given(body=markdown_body)
@settings(deadline=None)
def test_a_body_is_parsed_as_the_full_parser_parses_it(body: str) -> None:
    # parse_body leaves out the footnote rules where no footnote can start.
    env: dict[str, object] = {}
    tokens = markdown_parser().parse(body, env)
    parsed = parse_body(body)

    def footnotes(env: dict) -> object:
        return env.get("footnotes", {}).get("list") or {}

    assert parsed.tokens == tokens
    assert footnotes(parsed.env) == footnotes(env)


def _load_and_check(files: dict[str, str | bytes]) -> None:
    """Write ``files`` into a fresh repository; loading may only raise ContentError."""
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        for relative, content in files.items():
            path = root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        try:
            tree = load_tree(root)
        except ContentError as error:
            assert error.errors, "a ContentError must carry at least one error"
        else:
            assert all(warning.severity == "warning" for warning in tree.warnings)
        assert _is_problem_list(check_tree(root, known_quiz_ids={"q"}, previous_ids={PATH: "a"}))


@given(module=st.one_of(module_files, st.binary(max_size=200)))
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_loader_raises_only_content_errors_for_any_module(module: str | bytes) -> None:
    _load_and_check(
        {
            "courses/p/course.yaml": "id: p\nlanguage: fi\ntitle: {fi: P}\nmodules: [01-a.md]\n",
            PATH: module,
        }
    )


@given(course=st.one_of(text_like, _mapping_of(COURSE_KEYS), st.binary(max_size=100)))
@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_loader_raises_only_content_errors_for_any_course_yaml(course: str | bytes) -> None:
    _load_and_check(
        {
            "courses/p/course.yaml": course,
            PATH: "---\nid: a\ntitle: A\n---\n## Osio\n",
        }
    )
