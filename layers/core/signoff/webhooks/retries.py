"""How long a failed delivery waits before its next attempt.

The attempt number is the SQS message's receive count (1 for the first attempt). After failed
attempt n the message becomes visible again `delay_after(n)` seconds later (ChangeMessageVisibility
on the deliveries queue); the n-th delay of the schedule, the last one repeated when there are
more attempts than delays. SQS holds a message invisible for at most 12 hours, so no delay is
longer. After attempt `max_attempts` nothing is retried: the queue's RedrivePolicy
(maxReceiveCount = max_attempts) moves the message to the dead-letter queue.

The default schedule, 30 s, 5 min, 30 min, 2 h, 5 h, 10 h, 12 h, tries 8 times over about 30
hours: long enough to ride out a receiver's bad day, short of SQS's 4-day default retention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SQS_MAX_VISIBILITY_SECONDS = 12 * 60 * 60
DEFAULT_DELAYS: tuple[int, ...] = (30, 300, 1800, 7200, 18000, 36000, 43200)
DEFAULT_MAX_ATTEMPTS = len(DEFAULT_DELAYS) + 1


@dataclass(frozen=True)
class RetrySchedule:
    delays: tuple[int, ...] = DEFAULT_DELAYS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("a delivery is attempted at least once")
        if self.max_attempts > 1 and not self.delays:
            raise ValueError("retries need at least one delay")
        if any(delay < 0 for delay in self.delays):
            raise ValueError("retry delays are seconds, 0 or more")

    @classmethod
    def of(cls, delays: Sequence[int], max_attempts: int) -> RetrySchedule:
        return cls(tuple(int(delay) for delay in delays), int(max_attempts))

    def is_last(self, attempt: int) -> bool:
        return attempt >= self.max_attempts

    def delay_after(self, attempt: int) -> int:
        """Seconds to wait after failed attempt `attempt` (1-based) before the next one."""
        index = min(max(attempt, 1), len(self.delays)) - 1
        return min(self.delays[index], SQS_MAX_VISIBILITY_SECONDS)

    def total_seconds(self) -> int:
        """How long a delivery that always fails keeps being retried."""
        return sum(self.delay_after(attempt) for attempt in range(1, self.max_attempts))
