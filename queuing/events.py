"""Kue's job events on RQ: a Redis stream per queue.

Kue let the process that created a job listen to it: ``job.on('progress' |
'complete' | 'failed')``. RQ has no events, so workers append each job's
events to the stream ``kue:events:QUEUE`` (``record_event``) and the
creator reads it (``job_events``). A stream keeps its entries, so no event
is missed, even for a job that ends before the creator looks, and each is
read once, in the order it was written.
"""
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import NamedTuple

import redis
from rq import Queue
from rq.job import Job

EVENTS_KEY = "kue:events:{queue_name}"
# Old events are trimmed (approximately) beyond this many per queue.
EVENTS_KEPT = 10_000
# A creator waiting for events rides out a Redis restart this long, as
# node-redis reconnects, before it gives up with one line.
RECONNECT_WINDOW = 10.0
# A job watcher waits for events this many ms at a time, then checks that
# it was not closed meanwhile: its server stops promptly.
WATCHER_BLOCK = 250
ENDS = ("complete", "failed")
FAILED_ATTEMPT = "failed attempt"


def events_key(queue_name: str) -> str:
    """Return the key of QUEUE_NAME's event stream.

    kue:events:QUEUE_NAME is a STREAM whose entries have the fields job
    (the id), event and value.
    """
    return EVENTS_KEY.format(queue_name=queue_name)


class JobEvent(NamedTuple):
    """One thing that happened to a job: progress, complete or failed.

    Or a failed attempt, whose value is "ATTEMPT: MESSAGE"
    (failed_attempt reads it).
    """

    job_id: str
    event: str
    value: str


def failed_attempt(event: JobEvent) -> tuple[int, str]:
    """Return the attempt number and the error of a failed attempt EVENT."""
    attempt, _, message = event.value.partition(": ")
    return int(attempt), message


def record_event(connection: redis.Redis, queue_name: str, job_id: str,
                 event: str, value: object = "") -> None:
    """Append EVENT (with VALUE) of job JOB_ID to QUEUE_NAME's stream.

    CONNECTION may be a pipeline. Use emit() when you have the job.
    """
    connection.xadd(events_key(queue_name),
                    {"job": job_id, "event": event, "value": str(value)},
                    maxlen=EVENTS_KEPT, approximate=True)


def emit(job: Job, event: str, value: object = "",
         connection: redis.Redis | None = None) -> None:
    """Append EVENT (with VALUE) for JOB to its queue's event stream.

    CONNECTION (a pipeline, say) defaults to the job's.
    """
    record_event(connection or job.connection, job.origin, job.id, event,
                 value)


def report_progress(job: Job, completed: int, total: int) -> None:
    """Record JOB's progress as an integer percentage, like Kue's progress.

    The job's meta and the event go to Redis in one round trip.
    """
    percentage = min(100, completed * 100 // total)
    job.meta["progress"] = percentage
    with job.connection.pipeline(transaction=False) as pipeline:
        pipeline.hset(job.key, "meta", job.serializer.dumps(job.meta))
        emit(job, "progress", percentage, pipeline)
        pipeline.execute()


def last_event_id(connection: redis.Redis, queue_name: str) -> str:
    """Return the id of the newest event of QUEUE_NAME, or "0-0" if none.

    Read it before creating jobs, then read the events that follow it.
    """
    newest = connection.xrevrange(events_key(queue_name), count=1)
    return _text(newest[0][0]) if newest else "0-0"


def read_events(connection: redis.Redis, queue_name: str, since: str,
                block: int = 1000) -> Iterator[tuple[str, JobEvent] | None]:
    """Yield QUEUE_NAME's events after event SINCE, as they are written.

    Each comes as a pair (its entry id, the event), so that a reader can
    resume after it. None comes after each BLOCK ms without events, so that
    a reader can do other things between them; the generator never ends.
    """
    key = events_key(queue_name)
    lost_since = None
    while True:
        try:
            reply = connection.xread({key: since}, block=block)
        except (redis.ConnectionError, redis.TimeoutError):
            lost_since = lost_since or time.monotonic()
            if time.monotonic() - lost_since > RECONNECT_WINDOW:
                raise
            time.sleep(0.2)  # then try again: Redis may be restarting
            continue
        lost_since = None
        if not reply:
            yield None
        for entry_id, fields in reply[0][1] if reply else []:
            since = _text(entry_id)
            entry = {_text(name): _text(text) for name, text in fields.items()}
            yield since, JobEvent(entry["job"], entry["event"], entry["value"])


def job_events(connection: redis.Redis, queue_name: str,
               job_ids: Iterable[str], since: str = "0-0",
               block: int = 1000) -> Iterator[JobEvent]:
    """Yield the events of JOB_IDS after event SINCE until each job ended.

    A job ends when it completes or fails; a failed attempt is not an end.
    One whose job no longer exists in Redis (deleted, or its queue emptied)
    will never end, and is dropped after two waits of BLOCK ms without
    events.
    """
    pending = set(job_ids)
    gone: set[str] = set()
    events = read_events(connection, queue_name, since, block)
    while pending:
        entry = next(events)
        if entry is None:
            # A job found gone a wait ago had written all its events by
            # then (remove_on_complete deletes it just after "complete"),
            # and a whole wait without events read them all.
            pending -= gone
            try:
                gone = {job_id for job_id in pending
                        if not Job.exists(job_id, connection=connection)}
            except (redis.ConnectionError, redis.TimeoutError):
                pass  # read_events rides the outage out, or gives up
            continue
        _, event = entry
        if event.job_id in pending:
            yield event
            if event.event in ENDS:
                pending.discard(event.job_id)


def follow_in_background(connection: redis.Redis, queue_name: str,
                         job_ids: Iterable[str], since: str,
                         on_event: Callable[[JobEvent], None]
                         ) -> threading.Thread:
    """Call ON_EVENT for each event of JOB_IDS, in a daemon thread.

    The thread reads job_events(...) and ends once every job has ended; the
    process does not wait for it.
    """
    def follow() -> None:
        """Hand each event to ON_EVENT."""
        for event in job_events(connection, queue_name, job_ids, since):
            on_event(event)

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    return thread


def _text(value: bytes | str) -> str:
    """Return VALUE as str, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else value
