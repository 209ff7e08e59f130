"""Rewriting the module list of a course.yaml text, keeping everything else as written."""

from __future__ import annotations

import pytest
import yaml

from liboppi.services.editor import replace_module_list

NEW = ["02-b.md", "01-a.md", "03-c.md"]


@pytest.mark.parametrize(
    "text",
    [
        "id: k\n# kommentti\nmodules:\n  - 01-a.md\n  - 02-b.md\ntags: [x]\n",
        "id: k\nmodules:\n- 01-a.md\n- 02-b.md\n\n# loppu\ntags: [x]\n",
        "id: k\nmodules: [01-a.md, 02-b.md]\ntags: [x]\n",
        "id: k\nmodules: [\n  01-a.md,\n  02-b.md\n]\ntags: [x]\n",
        "id: k\ntags: [x]\nmodules:   # järjestyksessä\n  - 01-a.md\n  # väli\n  - 02-b.md",
        "id: k\r\nmodules:\r\n  - 01-a.md\r\ntags: [x]\r\n",
    ],
)
def test_the_module_list_is_replaced_and_the_rest_kept(text):
    result = replace_module_list(text, NEW)
    data = yaml.safe_load(result)
    assert data["modules"] == NEW
    assert data["id"] == "k" and data["tags"] == ["x"]
    for line in text.splitlines():
        if line.startswith(("id:", "tags:", "# ")):
            assert line in result.splitlines()
    if "\r\n" in text:
        assert result.count("\r\n") == result.count("\n")


def test_an_empty_module_list_is_written_as_an_empty_flow_list():
    result = replace_module_list("id: k\nmodules:\n  - 01-a.md\n", [])
    assert yaml.safe_load(result)["modules"] == []
