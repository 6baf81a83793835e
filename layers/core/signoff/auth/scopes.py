"""Token scopes: `<resource>:<id>:<action>`, each naming one resource and what may be done to it.

- `runs:<run_id>:read`: read the run, its node executions and its events;
- `runs:<run_id>:reviews`: read and decide the run's reviews (and read the run);
- `workflows:<workflow_id>:runs`: start runs of the workflow.

A token carries a few of them (a reviewer link: `runs:<run_id>:reviews`); the api grants a token
exactly the routes its scopes name (signoff.api.access).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from signoff.errors import InvalidInput

MAX_SCOPES = 20
_SCOPE = re.compile(
    r"^(?P<resource>runs|workflows):(?P<id>[A-Za-z0-9][A-Za-z0-9_.-]{0,127}):(?P<action>[a-z]+)$"
)
ACTIONS: dict[str, frozenset[str]] = {
    "runs": frozenset({"read", "reviews"}),
    "workflows": frozenset({"runs"}),
}
# What an action also allows: a reviewer sees the run it reviews.
IMPLIED: dict[tuple[str, str], frozenset[str]] = {("runs", "reviews"): frozenset({"read"})}


@dataclass(frozen=True)
class Scope:
    resource: str
    id: str
    action: str

    def __str__(self) -> str:
        return f"{self.resource}:{self.id}:{self.action}"

    def allows(self, resource: str, id_: str, action: str) -> bool:
        if (self.resource, self.id) != (resource, id_):
            return False
        return action == self.action or action in IMPLIED.get((resource, self.action), ())


def parse_scope(text: str) -> Scope:
    match = _SCOPE.match(text)
    if match is None or match["action"] not in ACTIONS[match["resource"]]:
        raise InvalidInput(
            f"{text!r} is not a scope: use runs:<run_id>:read, runs:<run_id>:reviews or "
            "workflows:<workflow_id>:runs",
            field="scopes",
        )
    return Scope(match["resource"], match["id"], match["action"])


def parse_scopes(texts: list[str] | tuple[str, ...]) -> list[Scope]:
    if not texts:
        raise InvalidInput("a token needs at least one scope", field="scopes")
    if len(texts) > MAX_SCOPES:
        raise InvalidInput(f"a token carries at most {MAX_SCOPES} scopes", field="scopes")
    scopes: list[Scope] = []
    for text in texts:
        scope = parse_scope(text)
        if scope not in scopes:
            scopes.append(scope)
    return scopes


def granted(scopes: tuple[str, ...], resource: str, id_: str, action: str) -> bool:
    """Whether any of a token's scopes allows `action` on the resource."""
    for text in scopes:
        match = _SCOPE.match(text)
        if match and Scope(match["resource"], match["id"], match["action"]).allows(
            resource, id_, action
        ):
            return True
    return False
