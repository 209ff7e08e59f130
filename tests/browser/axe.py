"""axe-core in the page: 0 violations of the WCAG 2.1 A and AA rules, or a readable failure.

axe-core's JavaScript (axe.min.js) comes with axe-playwright-python, so no network is needed.
It is added through the DevTools protocol, which the page's strict Content-Security-Policy
does not block.
"""

from __future__ import annotations

import json
from weakref import WeakSet

from axe_playwright_python.base import AXE_SCRIPT
from playwright.sync_api import BrowserContext, Page

WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_21_AA}, "resultTypes": ["violations"]}
_RUN = f"() => axe.run(document, {json.dumps(_OPTIONS)}).then(results => results.violations)"
_preloaded: WeakSet[BrowserContext] = WeakSet()


def axe_violations(page: Page) -> list[dict]:
    """The WCAG 2.1 A/AA violations axe-core finds on the page as it is now."""
    if not page.evaluate("() => typeof axe !== 'undefined'"):
        page.evaluate(AXE_SCRIPT)
        # Sending 600 kB of script over the DevTools pipe for every check is the slow part;
        # from now on Chromium itself adds axe-core to each new document in this context.
        if page.context not in _preloaded:
            page.context.add_init_script(script=AXE_SCRIPT)
            _preloaded.add(page.context)
    return page.evaluate(_RUN)


def describe(violations: list[dict]) -> str:
    """One line per rule and one per element: id, impact, help, target and the HTML."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            lines.append(f"    {target}: {node['html'][:160]}")
    return "\n".join(lines)


def axe_check(page: Page) -> None:
    """Fail the test when axe-core reports any WCAG 2.1 A/AA violation on ``page``."""
    violations = axe_violations(page)
    assert not violations, f"axe-core violations on {page.url}:\n{describe(violations)}"
