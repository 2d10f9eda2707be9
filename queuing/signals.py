"""Ctrl-C and SIGTERM at any moment: remembered until RQ can act on them.

RQ installs its stop handlers only once a worker or pool has started; a
signal before that would be a traceback, or lost. ``remember_stop`` notes
it, and each worker and pool honours the note once its handlers are in.
"""
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# A plain flag, not a threading.Event: a second signal could interrupt the
# first handler inside Event.set and wait forever on the Event's lock.
early_stop_requested = False
# True while a worker waits in Redis for a job: the one moment when a stop
# signal interrupts the code that runs (see KueWorker._shutdown).
waiting_for_a_job = False


def remember_stop(signum: int, frame: Any) -> None:
    """Note a stop signal that came before RQ's handlers were installed."""
    global early_stop_requested
    early_stop_requested = True


def remember_stops() -> None:
    """Make SIGINT and SIGTERM only note a stop, from now on."""
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, remember_stop)


def ignore_stops() -> None:
    """Make SIGINT and SIGTERM do nothing: the process is stopping."""
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, signal.SIG_IGN)


@contextmanager
def stops_blocked() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back while inside, and in threads it starts."""
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextmanager
def waiting() -> Iterator[None]:
    """Note that the worker waits for a job while inside."""
    global waiting_for_a_job
    waiting_for_a_job = True
    try:
        yield
    finally:
        waiting_for_a_job = False
