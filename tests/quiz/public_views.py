"""What a question's public view may contain: the keys a template may read, and nothing else."""

from __future__ import annotations

VIEW_KEYS = {
    "id",
    "type",
    "prompt",
    "points",
    "is_graded",
    "input",
    "options",
    "text",
    "sources",
    "targets",
    "items",
    "scale",
}


def view_keys(value: object) -> set[str]:
    """Return every mapping key anywhere in a view."""
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in view_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in view_keys(item)}
    return set()
