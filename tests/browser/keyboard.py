"""Moving through pages with the keyboard alone, and what has the focus."""

from __future__ import annotations

from playwright.sync_api import Page

#: A short description of the focused element and its computed focus outline.
_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    name: el.getAttribute('name') || '',
    href: el.getAttribute('href') || '',
    type: el.getAttribute('type') || '',
    classes: el.className || '',
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    outlineStyle: style.outlineStyle,
    inViewport: (() => { const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && r.left >= 0 && r.top >= 0
        && r.right <= innerWidth && r.bottom <= innerHeight; })(),
  };
}"""


def focused(page: Page) -> dict | None:
    """The focused element (tag, id, name, href, outline), or None when it is the body."""
    return page.evaluate(_FOCUSED)


def label(stop: dict | None) -> str:
    """A short name for a focus stop, for assertions and messages."""
    if stop is None:
        return "body"
    if stop["id"]:
        return f"{stop['tag']}#{stop['id']}"
    if stop["href"]:
        return f"{stop['tag']}[href={stop['href']}]"
    if stop["name"]:
        return f"{stop['tag']}[name={stop['name']}]"
    return f"{stop['tag']}.{stop['classes']}" if stop["classes"] else stop["tag"]


def tab(page: Page, times: int = 1) -> dict | None:
    """Press Tab ``times`` times; return the focused element."""
    for _ in range(times):
        page.keyboard.press("Tab")
    return focused(page)


def tab_stops(page: Page, limit: int = 80) -> list[dict]:
    """Every element Tab reaches from the top of the page, in order, until it wraps."""
    page.evaluate("() => { document.activeElement && document.activeElement.blur(); }")
    stops: list[dict] = []
    seen: set[str] = set()
    for _ in range(limit):
        stop = tab(page)
        if stop is None:
            break
        key = page.evaluate(
            "() => { const el = document.activeElement; const all = "
            "[...document.querySelectorAll('*')]; return String(all.indexOf(el)); }"
        )
        if key in seen:
            break
        seen.add(key)
        stops.append(stop)
    return stops


def tab_to(page: Page, selector: str, limit: int = 40) -> dict:
    """Press Tab until the element matching ``selector`` has the focus; fail if it never does."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return focused(page)
    raise AssertionError(f"Tab never reached {selector} on {page.url}")
