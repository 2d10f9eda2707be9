"""Kue's job options, checked, and the RQ options they become.

attempts and backoff: ``Retry``; delay: ``enqueue_in``; ttl: ``job_timeout``;
removeOnComplete: ``result_ttl=0``. Priority has no RQ word (see
queuing.scheduling). Times are in ms.
"""
import math
from datetime import timedelta
from typing import Any, NamedTuple

from rq import Retry
from rq.defaults import DEFAULT_RESULT_TTL

# Seconds a job's keys are kept once it ended: a finished job and its
# result for RQ's default, a failed one for a day (RQ's default is a year).
FINISHED_KEPT = DEFAULT_RESULT_TTL
FAILED_KEPT = 24 * 3600
# Kue's priority levels: the lower the number, the sooner the job runs.
PRIORITIES = {"low": 10, "normal": 0, "medium": -5, "high": -10,
              "critical": -15}
BACKOFF_TYPES = ("fixed", "exponential")


class Options(NamedTuple):
    """Kue's job options, checked (see check_options)."""

    priority: str = "normal"
    attempts: int = 1
    backoff: dict | None = None
    delay: float = 0
    ttl: float | None = None
    remove_on_complete: bool = False

    def meta(self) -> dict:
        """Return the options that are not Kue's defaults, for job.meta."""
        return {name: value for name, value in self._asdict().items()
                if value != Options._field_defaults[name]}

    def backoff_delay(self, attempt: int) -> float:
        """Return the ms to wait after failed attempt ATTEMPT (1, 2...)."""
        if self.backoff is None:
            return 0
        if self.backoff["type"] == "fixed":
            return self.backoff["delay"]
        return self.backoff["delay"] * 2 ** (attempt - 1)

    def rq_options(self) -> dict[str, Any]:
        """Return the keyword arguments of RQ's enqueue for these options."""
        rq_options: dict[str, Any] = {"failure_ttl": FAILED_KEPT}
        if self.remove_on_complete:
            rq_options["result_ttl"] = 0
        if self.meta():
            rq_options["meta"] = self.meta()
        if self.attempts > 1:
            rq_options["retry"] = Retry(self.attempts - 1, [
                self.backoff_delay(attempt) / 1000
                for attempt in range(1, self.attempts)])
        if self.ttl is not None:
            # RQ's job timeouts are whole seconds (SIGALRM): rounded up.
            rq_options["job_timeout"] = math.ceil(self.ttl / 1000)
        return rq_options

    def start_in(self) -> timedelta | None:
        """Return how long the job waits before it is queued, if at all."""
        return timedelta(milliseconds=self.delay) if self.delay else None


def is_number(value: object) -> bool:
    """Tell whether VALUE is a finite int or float (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_options(priority: str = "normal", attempts: int = 1,
                  backoff: bool | dict | None = None, delay: float = 0,
                  ttl: float | None = None, remove_on_complete: bool = False
                  ) -> Options:
    """Return Kue's job options checked; raise ValueError if one is bad."""
    if priority not in PRIORITIES:
        raise ValueError(f"Unknown priority {priority!r}: use one of "
                         + ", ".join(PRIORITIES))
    if not isinstance(attempts, int) or isinstance(attempts, bool) or (
            attempts < 1):
        raise ValueError(f"attempts must be a whole number, 1 or more, not "
                         f"{attempts!r}")
    if not is_number(delay) or delay < 0:
        raise ValueError(f"delay must be a number of ms, 0 or more, not "
                         f"{delay!r}")
    if ttl is not None and (not is_number(ttl) or ttl <= 0):
        raise ValueError(f"ttl must be a number of ms above 0, not {ttl!r}")
    if not isinstance(remove_on_complete, bool):
        raise ValueError(f"remove_on_complete must be True or False, not "
                         f"{remove_on_complete!r}")
    return Options(priority, attempts, check_backoff(backoff, delay), delay,
                   ttl, remove_on_complete)


def check_backoff(backoff: bool | dict | None, delay: float) -> dict | None:
    """Return BACKOFF as {"type", "delay"} or None; Kue's delay: DELAY."""
    if backoff is None or backoff is False:
        return None
    if backoff is True:
        return {"type": "fixed", "delay": delay}
    if (isinstance(backoff, dict) and set(backoff) <= {"type", "delay"}
            and backoff.get("type") in BACKOFF_TYPES):
        backoff_delay = backoff.get("delay", delay)
        if is_number(backoff_delay) and backoff_delay >= 0:
            return {"type": backoff["type"], "delay": backoff_delay}
    raise ValueError(f"backoff must be True or {{'type': 'fixed' or "
                     f"'exponential', 'delay': ms}}, not {backoff!r}")
