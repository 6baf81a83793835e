"""The webhook retry schedule: delays grow over hours, capped at SQS's 12 h visibility limit."""

from __future__ import annotations

import pytest

from signoff.settings import Settings
from signoff.webhooks.retries import SQS_MAX_VISIBILITY_SECONDS, RetrySchedule


def test_given_the_default_schedule_then_retries_back_off_over_hours():
    schedule = RetrySchedule()

    delays = [schedule.delay_after(attempt) for attempt in range(1, schedule.max_attempts)]

    assert delays == [30, 300, 1800, 7200, 18000, 36000, 43200]
    assert schedule.max_attempts == 8
    assert schedule.is_last(8) and not schedule.is_last(7)
    assert 24 * 3600 < schedule.total_seconds() < 4 * 24 * 3600


def test_given_the_default_settings_then_they_give_the_default_schedule():
    settings = Settings()

    schedule = RetrySchedule.of(settings.webhook_retry_delays, settings.webhook_max_attempts)

    assert schedule == RetrySchedule()


def test_given_more_attempts_than_delays_then_the_last_delay_repeats_capped_at_12_hours():
    schedule = RetrySchedule.of([5, 100_000], max_attempts=5)

    assert [schedule.delay_after(n) for n in (1, 2, 3, 4)] == [5] + [SQS_MAX_VISIBILITY_SECONDS] * 3


def test_given_a_short_test_schedule_from_the_environment_then_it_is_used(monkeypatch):
    monkeypatch.setenv("SIGNOFF_WEBHOOK_RETRY_DELAYS", "[1, 2]")
    monkeypatch.setenv("SIGNOFF_WEBHOOK_MAX_ATTEMPTS", "3")
    settings = Settings()

    schedule = RetrySchedule.of(settings.webhook_retry_delays, settings.webhook_max_attempts)

    assert [schedule.delay_after(1), schedule.delay_after(2)] == [1, 2]
    assert schedule.is_last(3)


@pytest.mark.parametrize(("delays", "attempts"), [((), 3), ((5,), 0), ((-1,), 2)])
def test_given_an_impossible_schedule_then_refused(delays, attempts):
    with pytest.raises(ValueError):
        RetrySchedule(delays, attempts)
