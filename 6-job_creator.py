#!/usr/bin/env python3
"""Task 6: create a job in a queue, and hear how it ends.

The Node original, 6-job_creator.js, created a Kue job of type
push_notification_code, logged its id once saved, and logged from the job's
'complete' and 'failed' events. RQ is this port's Kue: a job type is an RQ
queue name and the job's data is its one argument.

Kue gives jobs increasing numeric ids and lets the creating process listen to
a job's events. RQ has neither, so this module adds them, and the later job
scripts reuse it:

- ids come from a counter in Redis, as Kue's did (``new_job_id``);
- the worker records each job's events (progress, complete, failed) in a
  Redis stream per queue: ``report_progress`` from the job function, and the
  RQ callbacks ``on_complete`` / ``on_failed`` that ``create_job`` attaches;
- the creator reads that stream (``job_events``). A stream keeps its entries,
  so no event is missed, even for a job that ends before the creator looks,
  and each is read once, in the order it was written.
"""
from collections.abc import Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import redis
from rq import Callback, Queue
from rq.job import Job
from rq.serializers import JSONSerializer

redis_client = __import__("0-redis_client")

QUEUE_NAME = "push_notification_code"
JOB_FUNCTION = "6-job_processor.process_notification"
JOB_DATA = {
    "phoneNumber": "4153518780",
    "message": "This is the code to verify your account",
}

# The name a worker imports this module by, to run the callbacks.
MODULE = Path(__file__).stem
JOB_IDS_KEY = "kue:ids"
EVENTS_KEY = "kue:events:{queue_name}"
# Old events are trimmed (approximately) beyond this many per queue.
EVENTS_KEPT = 10_000


def events_key(queue_name: str) -> str:
    """Return the key of QUEUE_NAME's event stream.

    kue:ids is a STRING counter; kue:events:QUEUE_NAME is a STREAM whose
    entries have the fields job (the id), event and value.
    """
    return EVENTS_KEY.format(queue_name=queue_name)


class JobEvent(NamedTuple):
    """One thing that happened to a job: progress, complete or failed."""

    job_id: str
    event: str
    value: str


def queue_for(queue_name: str, connection: redis.Redis) -> Queue:
    """Return the RQ queue QUEUE_NAME, serializing jobs as JSON.

    CONNECTION must not decode responses (RQ reads bytes). JSON, not RQ's
    default pickle: a pickle in Redis is code that a worker would run.
    """
    return Queue(queue_name, connection=connection,
                 serializer=JSONSerializer)


def new_job_id(connection: redis.Redis) -> str:
    """Return the next job id: 1, 2, 3... across runs, like Kue's."""
    return str(connection.incr(JOB_IDS_KEY))


def emit(job: Job, event: str, value: object = "") -> None:
    """Append EVENT (with VALUE) for JOB to its queue's event stream."""
    job.connection.xadd(events_key(job.origin),
                        {"job": job.id, "event": event, "value": str(value)},
                        maxlen=EVENTS_KEPT, approximate=True)


def report_progress(job: Job, completed: int, total: int) -> None:
    """Record JOB's progress as an integer percentage, like Kue's progress."""
    percentage = min(100, completed * 100 // total)
    job.meta["progress"] = percentage
    job.save_meta()
    emit(job, "progress", percentage)


def on_complete(job: Job, connection: redis.Redis, result: Any) -> None:
    """Record that JOB completed (RQ's success callback, run by the worker)."""
    emit(job, "complete")


def on_failed(job: Job, connection: redis.Redis,
              exc_type: type[BaseException] | None,
              exc_value: BaseException | None,
              traceback: TracebackType | None) -> None:
    """Record that JOB failed, with its error message (RQ's failure callback).

    RQ also calls this for a job abandoned by a worker that died, with an
    exception that carries no message: its class name stands in.
    """
    message = str(exc_value or "") or getattr(exc_type, "__name__", "")
    emit(job, "failed", message)


def on_stopped(job: Job, connection: redis.Redis) -> None:
    """Record that JOB failed because it was stopped (RQ's stop callback)."""
    emit(job, "failed", "Job stopped")


def create_job(queue: Queue, function: str, data: dict,
               job_id: str | None = None) -> Job:
    """Queue a job that runs FUNCTION(DATA), with a Kue-like id and events.

    The id is the next one, unless JOB_ID (from new_job_id) is given.
    """
    return queue.enqueue(function, data,
                         job_id=job_id or new_job_id(queue.connection),
                         on_success=Callback(f"{MODULE}.on_complete"),
                         on_failure=Callback(f"{MODULE}.on_failed"),
                         on_stopped=Callback(f"{MODULE}.on_stopped"))


def last_event_id(connection: redis.Redis, queue_name: str) -> str:
    """Return the id of the newest event of QUEUE_NAME, or "0-0" if none.

    Read it before creating jobs, then read the events that follow it.
    """
    newest = connection.xrevrange(events_key(queue_name), count=1)
    return _text(newest[0][0]) if newest else "0-0"


def read_events(connection: redis.Redis, queue_name: str, since: str
                ) -> Iterator[tuple[str, JobEvent] | None]:
    """Yield QUEUE_NAME's events after event SINCE, as they are written.

    Each comes as a pair (its entry id, the event), so that a reader can
    resume after it. None comes after each second without events, so that a
    reader can do other things between them; the generator never ends.
    """
    key = events_key(queue_name)
    while True:
        reply = connection.xread({key: since}, block=1000)
        if not reply:
            yield None
        for entry_id, fields in reply[0][1] if reply else []:
            since = _text(entry_id)
            entry = {_text(name): _text(text) for name, text in fields.items()}
            yield since, JobEvent(entry["job"], entry["event"], entry["value"])


def job_events(connection: redis.Redis, queue_name: str,
               job_ids: Iterable[str], since: str = "0-0"
               ) -> Iterator[JobEvent]:
    """Yield the events of JOB_IDS after event SINCE until each job ended.

    A job ends when it completes or fails; one whose job no longer exists in
    Redis (deleted, or its queue emptied) will never end, and is dropped.
    """
    pending = set(job_ids)
    events = read_events(connection, queue_name, since)
    while pending:
        entry = next(events)
        if entry is None:
            pending = {job_id for job_id in pending
                       if Job.exists(job_id, connection=connection)}
            continue
        _, event = entry
        if event.job_id in pending:
            yield event
            if event.event in ("complete", "failed"):
                pending.discard(event.job_id)


def _text(value: bytes | str) -> str:
    """Return VALUE as str, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else value


def create_notification_job(queue: Queue) -> Job:
    """Create the task's notification job and print its id."""
    job = create_job(queue, JOB_FUNCTION, JOB_DATA)
    print(f"Notification job created: {job.id}")
    return job


def main() -> None:
    """Create the job, then print how it ended once a processor ran it."""
    connection = redis_client.connect(decode_responses=False, announce=False)
    since = last_event_id(connection, QUEUE_NAME)
    job = create_notification_job(queue_for(QUEUE_NAME, connection))
    for event in job_events(connection, QUEUE_NAME, [job.id], since):
        if event.event == "complete":
            print("Notification job completed")
        elif event.event == "failed":
            print("Notification job failed")


if __name__ == "__main__":
    redis_client.run(main)
