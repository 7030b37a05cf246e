"""The one retry policy of every request PaperDiary sends (arXiv's API and downloads, the LLM endpoint).

``RetryPolicy.run(call, transient=…)`` tries ``call`` up to ``attempts`` times within ``max_time``
seconds: a failure ``transient`` says is worth another try waits as long as the server asked
(``retry_after``), else a jittered exponential back-off of base ``backoff`` (at most ``max_backoff``), and
never starts a wait that would overrun the budget. Whoever calls decides what is transient and what the
final error says; the policy only counts, waits and sleeps.

The sleep is the policy's own (``sleep``), so a test hands it a recorder and nothing waits for real. A
test suite that runs the CLI in subprocesses sets ``PAPERDIARY_RETRY_WAITS=0``: every wait is still
computed, logged and honoured in order, but not slept.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)

from paperdiary.settings import RETRY_ATTEMPTS

if TYPE_CHECKING:
    from paperdiary.settings import Settings

T = TypeVar("T")
NO_WAITS_VARIABLE = "PAPERDIARY_RETRY_WAITS"


def default_sleep() -> Callable[[float], None]:
    """``time.sleep``, or a sleep that returns at once when ``PAPERDIARY_RETRY_WAITS=0`` (test suites)."""
    if os.environ.get(NO_WAITS_VARIABLE, "").strip() == "0":
        return lambda seconds: None
    return time.sleep


@dataclass(frozen=True)
class RetryNote:
    """A failed try about to be followed by another: what failed, which try it was, how long until the next."""

    error: BaseException
    attempt: int  # the try that failed, from 1
    attempts: int  # the most tries the policy makes
    wait: float  # seconds before the next try


@dataclass
class RetryPolicy:
    max_time: float  # seconds of retrying, waits included, before giving up (``settings.retry_max_time``)
    attempts: int = RETRY_ATTEMPTS
    backoff: float = 1.0  # seconds: the n-th back-off is drawn from [0, backoff * 2**(n-1)]
    max_backoff: float = 30.0
    sleep: Callable[[float], None] = field(default_factory=lambda: default_sleep())  # looked up when made

    @classmethod
    def for_settings(cls, settings: Settings, **options: Any) -> RetryPolicy:
        return cls(max_time=settings.retry_max_time, **options)

    def run(
        self,
        call: Callable[[], T],
        *,
        transient: Callable[[BaseException], bool],
        retry_after: Callable[[BaseException], float | None] = lambda error: None,
        on_retry: Callable[[RetryNote], None] = lambda note: None,
        give_up: Callable[[BaseException, int], None] | None = None,
    ) -> T:
        """``call()``'s value, retrying what ``transient`` accepts.

        ``retry_after(error)``: seconds the server asked to wait, if it did (capped by ``max_time``).
        ``on_retry`` hears of each wait before it starts. When the last try fails, ``give_up(error, tries)``
        may raise what the caller makes of it; otherwise the error itself is raised.
        """
        backoff = wait_random_exponential(multiplier=self.backoff, max=self.max_backoff)

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            asked = retry_after(error) if error is not None else None
            if asked is not None:
                return min(asked, self.max_time)
            return float(backoff(state))

        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            if error is not None:
                on_retry(RetryNote(error, state.attempt_number, self.attempts, state.upcoming_sleep))

        retrying = Retrying(
            retry=retry_if_exception(transient),
            wait=wait,
            # stop_before_delay: never start a wait that would overrun the budget.
            stop=stop_after_attempt(self.attempts) | stop_before_delay(self.max_time),
            before_sleep=before_sleep,
            sleep=self.sleep,
            reraise=True,
        )
        try:
            return retrying(call)
        except Exception as error:
            if give_up is not None:
                give_up(error, int(retrying.statistics.get("attempt_number", 1)))
            raise


class BackoffGate:
    """A point in time before which no request may start, shared by every client of one endpoint.

    When one worker meets a 429 the whole process slows down, instead of the other workers running into
    the same limit and multiplying it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self, sleep: Callable[[float], None], *, waited_until: float = 0.0) -> None:
        """Sleep (with the policy's ``sleep``) until the gate opens; again if someone held it longer meanwhile.

        ``waited_until``: the caller's own back-off already ran to this time (``time.monotonic()``): a
        worker that held the gate does not wait for it a second time.
        """
        while True:
            with self._lock:
                until = self._until
            remaining = until - max(time.monotonic(), waited_until)
            if remaining <= 0:
                return
            sleep(remaining)
            waited_until = until


_gates: dict[str, BackoffGate] = {}
_gates_lock = threading.Lock()


def gate_for(key: str) -> BackoffGate:
    """The one gate of ``key`` (an endpoint) in this process."""
    with _gates_lock:
        return _gates.setdefault(key, BackoffGate())
