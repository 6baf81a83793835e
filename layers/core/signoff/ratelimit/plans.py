"""Rate plans: a sustained rate (requests a minute) and a burst (requests at once after a pause)."""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field


class RatePlan(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    requests_per_minute: int = Field(ge=1, le=1_000_000, description="The sustained rate.")
    burst: int = Field(
        ge=1, le=1_000_000, description="How many requests may arrive at once after a pause."
    )

    @property
    def interval_seconds(self) -> float:
        """The time one request 'costs' at the sustained rate."""
        return 60.0 / self.requests_per_minute


# The seed's plans (free, pro, enterprise: 100, 1000 and 5000 requests a minute); the burst lets a
# client send a fifth of a minute's allowance at once. A deployment overrides or adds plans with
# the RatePlans stack parameter (SIGNOFF_RATE_LIMIT_PLANS).
DEFAULT_PLANS: dict[str, RatePlan] = {
    "free": RatePlan(requests_per_minute=100, burst=20),
    "pro": RatePlan(requests_per_minute=1000, burst=200),
    "enterprise": RatePlan(requests_per_minute=5000, burst=1000),
}


def resolve_plans(overrides: Mapping[str, RatePlan]) -> dict[str, RatePlan]:
    """The default plans with the deployment's overrides and additions."""
    return {**DEFAULT_PLANS, **overrides}
