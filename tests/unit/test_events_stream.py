"""follow_run: a run's event log followed in order, once each, until the run ends or pauses."""

from __future__ import annotations

from typing import Any

from signoff.events.envelope import Event, new_event_id
from signoff.events.stream import follow_run


def envelope(sequence: int, type_: str = "node.started", **data: Any) -> Event:
    return Event(
        id=new_event_id(),
        type=type_,
        time="2025-01-02T03:04:05.678Z",
        tenant="t1",
        workflow_id="wf",
        run_id="run-1",
        node_id="n" if type_.startswith("node.") else None,
        sequence=sequence,
        data=data,
    )


class FakeLog:
    """A run event log whose contents grow as the test's clock advances (appends at times)."""

    def __init__(self, clock: FakeClock, schedule: list[tuple[float, Event]]) -> None:
        self.clock = clock
        self.schedule = schedule
        self.reads: list[int] = []

    def append(self, **_: Any) -> Event:  # pragma: no cover - not used by readers
        raise NotImplementedError

    def read(self, *, tenant_id: str, run_id: str, after: int = 0, limit: int = 200) -> list[Event]:
        assert (tenant_id, run_id) == ("t1", "run-1")
        self.reads.append(after)
        visible = [event for at, event in self.schedule if at <= self.clock.now]
        return sorted(
            (event for event in visible if event.sequence > after), key=lambda e: e.sequence
        )[:limit]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def follow(log: FakeLog, clock: FakeClock, limit: int = 500, **options: Any) -> list[Event | None]:
    seen: list[Event | None] = []
    for item in follow_run(
        log, tenant_id="t1", run_id="run-1", clock=clock, sleep=clock.sleep, **options
    ):
        seen.append(item)
        if len(seen) >= limit:
            break
    return seen


def sequences(items: list[Event | None]) -> list[int]:
    return [item.sequence for item in items if item is not None]


def test_given_a_finished_run_when_followed_then_every_event_once_in_order_and_it_ends():
    clock = FakeClock()
    events = [envelope(1, "run.started"), envelope(2), envelope(3, "node.succeeded")]
    events.append(envelope(4, "run.succeeded"))
    log = FakeLog(clock, [(0.0, event) for event in reversed(events)])

    seen = follow(log, clock)

    assert seen == events


def test_given_events_arriving_over_time_then_idle_polls_yield_none_and_nothing_repeats():
    clock = FakeClock()
    log = FakeLog(
        clock,
        [
            (0.0, envelope(1, "run.started")),
            (1.0, envelope(2)),
            (1.0, envelope(3, "node.succeeded")),
            (3.0, envelope(4, "run.failed")),
        ],
    )

    seen = follow(log, clock)

    assert sequences(seen) == [1, 2, 3, 4]
    assert None in seen
    assert seen[-1] is not None and seen[-1].type == "run.failed"
    # Each read asks for what follows the last event seen: never from the start again.
    assert log.reads == sorted(log.reads)


def test_given_a_reconnect_after_n_then_it_resumes_at_n_plus_one():
    clock = FakeClock()
    log = FakeLog(clock, [(0.0, envelope(n)) for n in range(1, 6)])
    log.schedule.append((0.0, envelope(6, "run.stopped")))

    seen = follow(log, clock, after=3)

    assert sequences(seen) == [4, 5, 6]


def test_given_a_run_that_pauses_then_the_stream_ends_after_run_paused():
    clock = FakeClock()
    log = FakeLog(
        clock,
        [(0.0, envelope(1, "run.started")), (0.5, envelope(2, "run.paused", kind="review"))],
    )
    log.schedule.append((100.0, envelope(3, "run.resumed")))

    seen = follow(log, clock)

    assert sequences(seen) == [1, 2]
    assert clock.now < 100.0


def test_given_a_replay_of_a_run_that_paused_and_went_on_then_it_is_followed_past_the_pause():
    clock = FakeClock()
    kinds = ["run.started", "run.paused", "run.resumed", "node.started", "run.succeeded"]
    log = FakeLog(clock, [(0.0, envelope(n, kind)) for n, kind in enumerate(kinds, start=1)])

    seen = follow(log, clock)

    assert sequences(seen) == [1, 2, 3, 4, 5]


def test_given_continue_on_pause_then_the_stream_waits_through_the_pause():
    clock = FakeClock()
    log = FakeLog(
        clock,
        [
            (0.0, envelope(1, "run.started")),
            (0.0, envelope(2, "run.paused")),
            (30.0, envelope(3, "run.resumed")),
            (31.0, envelope(4, "run.succeeded")),
        ],
    )

    seen = follow(log, clock, stop_on_pause=False)

    assert sequences(seen) == [1, 2, 3, 4]


def test_given_an_idle_run_then_polls_back_off_to_the_maximum_interval():
    clock = FakeClock()
    log = FakeLog(clock, [(0.0, envelope(1, "run.started"))])

    seen = follow(log, clock, limit=40, poll_seconds=0.2, max_poll_seconds=1.0)

    assert seen[0] is not None and all(item is None for item in seen[1:])
    assert set(log.reads[1:]) == {1}  # always what follows the one event seen
    assert 30.0 <= clock.now <= 40.0  # 0.2, 0.4, 0.8, then 1 s a poll


def test_given_a_run_ended_without_its_last_event_then_the_stream_ends_at_the_second_check():
    clock = FakeClock()
    log = FakeLog(clock, [(0.0, envelope(1, "run.started"))])
    checks: list[float] = []

    def run_ended() -> bool:
        checks.append(clock.now)
        return True

    seen = follow(log, clock, run_ended=run_ended, ended_check_seconds=5.0)

    assert sequences(seen) == [1]
    assert len(checks) == 2
    assert checks[1] - checks[0] >= 5.0


def test_given_a_run_still_going_then_run_ended_checks_never_end_the_stream():
    clock = FakeClock()
    log = FakeLog(clock, [(0.0, envelope(1, "run.started")), (60.0, envelope(2, "run.stopped"))])

    seen = follow(log, clock, run_ended=lambda: False)

    assert sequences(seen) == [1, 2]


def test_given_a_gap_in_the_log_then_the_reader_waits_for_the_missing_event():
    clock = FakeClock()
    log = FakeLog(
        clock,
        [
            (0.0, envelope(1, "run.started")),
            (0.0, envelope(3, "node.succeeded")),
            (1.0, envelope(2)),
            (1.0, envelope(4, "run.succeeded")),
        ],
    )

    seen = follow(log, clock)

    assert sequences(seen) == [1, 2, 3, 4]
