"""Event patterns a subscription selects events with: a type, a family ("run.*") or "*"."""

from __future__ import annotations

from collections.abc import Iterable

from signoff.errors import InvalidInput
from signoff.events.envelope import EVENT_TYPES

EVERYTHING = "*"
_FAMILY_SUFFIX = ".*"
FAMILIES: frozenset[str] = frozenset(event_type.split(".", 1)[0] for event_type in EVENT_TYPES)


def check_patterns(patterns: Iterable[str], *, field: str = "events") -> list[str]:
    """The patterns, duplicates dropped, in their order; InvalidInput naming the first unknown.

    Unknown types are refused rather than kept: a typo would otherwise select nothing, silently.
    """
    checked: list[str] = []
    for index, pattern in enumerate(patterns):
        if not _known(pattern):
            raise InvalidInput(
                f"{field}[{index}]: {pattern!r} is not an event type, a family like 'run.*' "
                f"or '*' (families: {', '.join(sorted(FAMILIES))})",
                field=f"{field}.{index}",
            )
        if pattern not in checked:
            checked.append(pattern)
    if not checked:
        raise InvalidInput(f"{field}: name at least one event type or pattern", field=field)
    return checked


def matches(patterns: Iterable[str], event_type: str) -> bool:
    """Whether any pattern selects `event_type`."""
    for pattern in patterns:
        if pattern in (EVERYTHING, event_type):
            return True
        if pattern.endswith(_FAMILY_SUFFIX) and event_type.startswith(pattern[:-1]):
            return True
    return False


def _known(pattern: str) -> bool:
    if pattern == EVERYTHING or pattern in EVENT_TYPES:
        return True
    return pattern.endswith(_FAMILY_SUFFIX) and pattern[: -len(_FAMILY_SUFFIX)] in FAMILIES
