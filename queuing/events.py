"""Kue's job events on RQ: a Redis stream per queue.

RQ's callbacks and the job function append each job's events (Kue's
``job.on('progress' | 'complete' | 'failed')``) to a stream, which keeps
them: the creator reads each once, in order, even after the job ended.
"""
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple, TypeVar

import redis
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer

EVENTS_KEY = "kue:events:{queue_name}"
EVENTS_KEPT = 10_000  # per queue, trimmed approximately
# Seconds a reader rides out a lost Redis, and ms a job watcher waits for
# events before it looks whether it was closed.
RECONNECT_WINDOW = 10.0
WATCHER_BLOCK = 250
ENDS = ("complete", "failed")
FAILED_ATTEMPT = "failed attempt"
# KEYS: the stream, the job's hash. ARGV: job id, event, value, a write id,
# the entries kept. The job's hash remembers the last write id it took, so
# a write retried after its reply was lost is not added twice.
RECORD_SCRIPT = """
local is_hash = redis.call('TYPE', KEYS[2]).ok == 'hash'
if is_hash then
    if redis.call('HGET', KEYS[2], 'kue_event') == ARGV[4] then return 0 end
    redis.call('HSET', KEYS[2], 'kue_event', ARGV[4])
end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*',
           'job', ARGV[1], 'event', ARGV[2], 'value', ARGV[3])
return 1
"""
T = TypeVar("T")


def events_key(queue_name: str) -> str:
    """Return kue:events:QUEUE_NAME, a STREAM of entries job, event, value."""
    return EVENTS_KEY.format(queue_name=queue_name)


class JobEvent(NamedTuple):
    """One thing that happened to a job (see ENDS and FAILED_ATTEMPT)."""

    job_id: str
    event: str
    value: str


def failed_attempt(event: JobEvent) -> tuple[int, str]:
    """Return the attempt number and the error of a failed attempt EVENT."""
    attempt, _, message = event.value.partition(": ")
    return int(attempt), message


def retried(call: Callable[..., T], *args: Any,
            landed: Callable[[], bool] | None = None, **kwargs: Any) -> T:
    """Return CALL(ARGS, KWARGS), called again for RECONNECT_WINDOW s if
    Redis dropped the link (a refused connection fails at once).

    CALL must be safe to repeat, or LANDED must tell whether a call whose
    reply was lost took effect: then None is returned.
    """
    give_up = time.monotonic() + RECONNECT_WINDOW
    pause = 0.01
    while True:
        try:
            return call(*args, **kwargs)
        except redis.ConnectionError as error:
            if isinstance(error.__context__, ConnectionRefusedError) or (
                    time.monotonic() > give_up):
                raise
        time.sleep(pause)  # then try again, on a new connection
        pause = min(pause * 2, 0.5)
        if landed is not None and retried(landed):
            return None


def record_event(connection: redis.Redis, queue_name: str, job_id: str,
                 event: str, value: object = "",
                 write_id: str | None = None) -> None:
    """Append job JOB_ID's EVENT to QUEUE_NAME's stream, once per WRITE_ID."""
    connection.eval(RECORD_SCRIPT, 2, events_key(queue_name),
                    Job.key_for(job_id), job_id, event, str(value),
                    write_id or uuid.uuid4().hex, EVENTS_KEPT)


def emit(job: Job, event: str, value: object = "") -> None:
    """Append EVENT (with VALUE) for JOB to its queue's stream, once."""
    retried(record_event, job.connection, job.origin, job.id, event, value,
            uuid.uuid4().hex)


def report_progress(job: Job, completed: int, total: int) -> None:
    """Record JOB's progress as an integer percentage, like Kue's progress."""
    percentage = min(100, completed * 100 // total)
    job.meta["progress"] = percentage
    write_id = uuid.uuid4().hex

    def write() -> None:
        """Store the percentage and record the event, on one round trip."""
        with job.connection.pipeline(transaction=False) as pipeline:
            pipeline.hset(job.key, "meta", job.serializer.dumps(job.meta))
            record_event(pipeline, job.origin, job.id, "progress",
                         percentage, write_id)
            pipeline.execute()

    retried(write)


def last_event_id(connection: redis.Redis, queue_name: str) -> str:
    """Return the id of QUEUE_NAME's newest event, or "0-0": read after it."""
    newest = retried(connection.xrevrange, events_key(queue_name), count=1)
    return _text(newest[0][0]) if newest else "0-0"


def read_events(connection: redis.Redis, queue_name: str, since: str,
                block: int = 1000) -> Iterator[tuple[str, JobEvent] | None]:
    """Yield (entry id, event) for QUEUE_NAME's events after SINCE, forever.

    None comes after each BLOCK ms without events; a lost Redis is waited
    for, as node-redis reconnects.
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

    A job whose end event was trimmed away ends as RQ stored it; one that
    no longer exists is dropped.
    """
    pending = set(job_ids)
    gone: set[str] = set()
    ended: list[JobEvent] = []
    events = read_events(connection, queue_name, since, block)
    while pending:
        entry = next(events)
        if entry is None:
            # Found gone or ended a wait ago: all its events are read.
            pending -= gone
            for event in ended:
                if event.job_id in pending:
                    pending.discard(event.job_id)
                    yield event
            try:
                gone, ended = stored_ends(connection, pending)
            except (redis.ConnectionError, redis.TimeoutError):
                gone, ended = set(), []  # read_events rides it out
            continue
        _, event = entry
        if event.job_id in pending:
            yield event
            if event.event in ENDS:
                pending.discard(event.job_id)


def stored_ends(connection: redis.Redis, job_ids: set[str]
                ) -> tuple[set[str], list[JobEvent]]:
    """Return which of JOB_IDS are gone, and the ends RQ stored of the rest.

    An end event is written before the status, so an ended status after
    every event was read means the event was lost.
    """
    gone, ended = set(), []
    for job_id in sorted(job_ids, key=lambda job_id: int(job_id)
                         if job_id.isdigit() else 0):
        try:
            job = Job.fetch(job_id, connection=connection,
                            serializer=JSONSerializer)
        except NoSuchJobError:
            gone.add(job_id)
            continue
        except (redis.ConnectionError, redis.TimeoutError):
            raise
        except Exception:
            continue  # unreadable: its worker fails it, with an event
        status = job.get_status(refresh=False)
        if status == JobStatus.FINISHED:
            ended.append(JobEvent(job_id, "complete", ""))
        elif status in (JobStatus.FAILED, JobStatus.STOPPED):
            ended.append(JobEvent(job_id, "failed", stored_error(job)))
    return gone, ended


def stored_error(job: Job) -> str:
    """Return the message of JOB's last failure, as its event said it."""
    result = job.latest_result()
    lines = (result.exc_string or "").strip().splitlines() if result else []
    message = lines[-1] if lines else "Job failed"
    kind, separator, rest = message.partition(": ")
    return rest if separator and kind.replace(".", "").isidentifier() else (
        message)


def follow_in_background(connection: redis.Redis, queue_name: str,
                         job_ids: Iterable[str], since: str,
                         on_event: Callable[[JobEvent], None]
                         ) -> threading.Thread:
    """Call ON_EVENT for each event of JOB_IDS, in a daemon thread."""
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
