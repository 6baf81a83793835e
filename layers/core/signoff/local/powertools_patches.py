"""Per-request state of Powertools' event handler, made per thread for the local cloud.

Lambda gives each execution environment one request at a time, and Powertools' resolver relies on
it: `resolve()` stores the current event and Lambda context on the `BaseRouter` class and keeps
the matched route in the resolver's `context` dict, cleared when the request ends. The local cloud
serves many requests at once from one process (the HTTP front's thread pool, the streaming app's
in-process calls), so two requests in flight would read each other's event, route or body. Here
those three attributes become per thread; nothing changes on AWS, where this module never loads.
"""

from __future__ import annotations

import threading
from abc import ABCMeta
from typing import Any

from aws_lambda_powertools.event_handler.api_gateway import BaseRouter

_per_thread = threading.local()


def _thread_values() -> dict[str, Any]:
    values = getattr(_per_thread, "values", None)
    if values is None:
        values = _per_thread.values = {}
    return values


def _class_attribute(name: str) -> property:
    def read(_owner: Any) -> Any:
        try:
            return _thread_values()[name]
        except KeyError:
            raise AttributeError(name) from None

    def write(_owner: Any, value: Any) -> None:
        _thread_values()[name] = value

    return property(read, write)


def _instance_context() -> property:
    """`self.context` of a resolver: one dict per resolver per thread."""

    def read(resolver: Any) -> dict:
        contexts = _thread_values().setdefault("context", {})
        return contexts.setdefault(id(resolver), {})

    def write(resolver: Any, value: dict) -> None:
        _thread_values().setdefault("context", {})[id(resolver)] = value

    return property(read, write)


class _PerThreadRouterState(ABCMeta):
    """BaseRouter's metaclass here: `BaseRouter.current_event = ...` lands in the thread's slot."""

    current_event = _class_attribute("current_event")
    lambda_context = _class_attribute("lambda_context")


def make_router_state_per_thread() -> None:
    """Idempotent. Instances read the same per-thread slots through properties on BaseRouter."""
    if type(BaseRouter) is _PerThreadRouterState:
        return
    # Set the instance-side properties while BaseRouter's metaclass is still ABCMeta, so they go
    # into its __dict__; afterwards class-level reads and writes go through the metaclass.
    BaseRouter.current_event = _class_attribute("current_event")  # type: ignore[assignment]
    BaseRouter.lambda_context = _class_attribute("lambda_context")  # type: ignore[assignment]
    BaseRouter.context = _instance_context()  # type: ignore[assignment]
    BaseRouter.__class__ = _PerThreadRouterState
