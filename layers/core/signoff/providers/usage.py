"""Token usage of a model call and what it cost, priced from the deployment's model prices."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from signoff.providers.config import ModelPrice

DEFAULT_CURRENCY = "USD"
_PER = Decimal(1000)


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_price: Decimal = Decimal(0)
    currency: str = DEFAULT_CURRENCY

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def priced(self, price: ModelPrice | None) -> Usage:
        """This usage with its price; with no price configured the call is counted as free."""
        if price is None:
            return replace(self, total_price=Decimal(0))
        cost = (
            Decimal(self.prompt_tokens) * price.input_per_1k
            + Decimal(self.completion_tokens) * price.output_per_1k
        ) / _PER
        return replace(self, total_price=cost, currency=price.currency)

    def __add__(self, other: Usage) -> Usage:
        # A node's calls share one model, so one currency; a mix keeps the first's label.
        return Usage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
            total_price=self.total_price + other.total_price,
            currency=self.currency,
        )

    def as_dict(self) -> dict[str, Any]:
        """The node function result's `usage` (docs/internals.md), JSON-ready."""
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
            "total_price": float(self.total_price),
            "currency": self.currency,
        }
