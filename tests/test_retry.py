"""The one retry policy (paperdiary/retry.py): what it retries, how long it waits, when it gives up. Its sleep
is injected, so every wait is recorded and none is slept."""

from __future__ import annotations

import pytest

from paperdiary.retry import RetryNote, RetryPolicy


class Flaky(Exception):
    def __init__(self, retry_after: float | None = None):
        super().__init__("flaky")
        self.retry_after = retry_after


def failing(times: int, error: Exception, value: str = "ok"):
    calls: list[int] = []

    def call() -> str:
        calls.append(1)
        if len(calls) <= times:
            raise error
        return value

    return call, calls


def policy(sleeps: list[float], **options: float) -> RetryPolicy:
    return RetryPolicy(**({"max_time": 100.0, "backoff": 1.0, "max_backoff": 8.0} | options),
                       sleep=sleeps.append)


def test_transient_failures_are_retried_with_growing_jittered_backoff_and_notes() -> None:
    sleeps: list[float] = []
    notes: list[RetryNote] = []
    call, calls = failing(3, Flaky())
    assert policy(sleeps).run(call, transient=lambda e: isinstance(e, Flaky), on_retry=notes.append) == "ok"
    assert len(calls) == 4 and len(sleeps) == 3
    assert [n.attempt for n in notes] == [1, 2, 3] and [n.wait for n in notes] == sleeps
    for n, wait in enumerate(sleeps):  # the n-th wait is drawn from [0, backoff * 2**n], capped
        assert 0 <= wait <= min(8.0, 2**n)


def test_what_is_not_transient_fails_at_once() -> None:
    sleeps: list[float] = []
    call, calls = failing(1, ValueError("bad request"))
    with pytest.raises(ValueError, match="bad request"):
        policy(sleeps).run(call, transient=lambda e: isinstance(e, Flaky))
    assert len(calls) == 1 and sleeps == []


def test_the_servers_retry_after_is_waited_and_give_up_names_the_tries() -> None:
    sleeps: list[float] = []
    call, calls = failing(10, Flaky(retry_after=2.5))
    given_up: list[int] = []

    def give_up(error: BaseException, tries: int) -> None:
        given_up.append(tries)
        raise RuntimeError(f"failed {tries} tries") from error

    with pytest.raises(RuntimeError, match="failed 6 tries"):
        policy(sleeps).run(call, transient=lambda e: isinstance(e, Flaky), give_up=give_up,
                           retry_after=lambda e: getattr(e, "retry_after", None))
    assert sleeps == [2.5] * 5 and len(calls) == 6 and given_up == [6]


def test_no_wait_starts_that_would_overrun_the_budget() -> None:
    sleeps: list[float] = []
    call, calls = failing(10, Flaky(retry_after=30))
    with pytest.raises(Flaky):
        policy(sleeps, max_time=20).run(call, transient=lambda e: isinstance(e, Flaky),
                                        retry_after=lambda e: getattr(e, "retry_after", None))
    assert len(calls) == 1 and sleeps == []  # a 30 s wait (capped to 20) does not fit a 20 s budget


def test_the_default_sleep_is_not_taken_under_the_test_suites_variable(monkeypatch) -> None:
    import time

    from paperdiary.retry import default_sleep

    monkeypatch.setenv("PAPERDIARY_RETRY_WAITS", "0")
    assert default_sleep() is not time.sleep
    monkeypatch.delenv("PAPERDIARY_RETRY_WAITS")
    assert default_sleep() is time.sleep
