"""Request rate limits per API key and per tenant plan, enforced by the api with its own counters.

API Gateway usage plans are not used: they meter API Gateway API keys (x-api-key), not the bearer
keys and tokens signoff issues, and the local cloud has none. The api function asks the limiter
before it routes a request (signoff.api.gate); the limiter keeps one GCRA bucket per key and per
tenant in DynamoDB, updated with conditional writes.
"""

from signoff.ratelimit.limiter import DynamoRateLimiter, RateDecision, RateLimiter
from signoff.ratelimit.plans import DEFAULT_PLANS, RatePlan, resolve_plans

__all__ = [
    "DEFAULT_PLANS",
    "DynamoRateLimiter",
    "RateDecision",
    "RateLimiter",
    "RatePlan",
    "resolve_plans",
]
