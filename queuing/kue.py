"""Kue's job ids and job events, on top of RQ.

Kue gave every job the next number of a counter (1, 2, 3... across runs)
and let the process that created a job listen to it: ``job.on('progress' |
'complete' | 'failed')``. RQ has random ids and no events, so this module
adds both:

- ids come from the counter ``kue:ids`` (``new_job_id``);
- workers record each job's events in a Redis stream per queue,
  ``kue:events:QUEUE``: ``report_progress`` from the job function, and the
  RQ callbacks that ``create_job`` attaches to every job for its end;
- the creator reads that stream (``job_events``). A stream keeps its
  entries, so no event is missed, even for a job that ends before the
  creator looks, and each is read once, in the order it was written.

``create_job`` also takes the rest of Kue's job options, by Kue's names:
``priority``, ``attempts``, ``backoff``, ``delay``, ``ttl`` and
``remove_on_complete`` (``queuing.scheduling`` puts jobs in their place in
the queue, and on time). A try that fails while attempts remain is the
event ``failed attempt``, whose value is ``ATTEMPT: MESSAGE``; only the
last one is ``failed``.

Jobs are stored with RQ's JSON serializer, never pickle: a pickle in Redis
is code that a worker would run.
"""
import math
import sys
import threading
import time
from pathlib import Path
from collections.abc import Callable, Iterable, Iterator
from types import TracebackType
from typing import Any, NamedTuple

import redis
from rq import Callback, Queue, Retry
from rq.defaults import CALLBACK_TIMEOUT, DEFAULT_RESULT_TTL
from rq.exceptions import NoSuchJobError, StopRequested
from rq.job import Job, JobStatus
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException

from queuing import scheduling

JOB_IDS_KEY = "kue:ids"
EVENTS_KEY = "kue:events:{queue_name}"
# Old events are trimmed (approximately) beyond this many per queue.
EVENTS_KEPT = 10_000
# Seconds a job's keys are kept once it ended: a finished job and its result
# for RQ's default 500 s, a failed one for a day (RQ's default is a year,
# and its failure results never expired). A queued job waits until a worker
# takes it: its keys expire only once it ended.
FINISHED_KEPT = DEFAULT_RESULT_TTL
FAILED_KEPT = 24 * 3600
# A creator waiting for events rides out a Redis restart this long, as
# node-redis reconnects, before it gives up with one line.
RECONNECT_WINDOW = 10.0
# A job watcher waits for events this many ms at a time, then checks that
# it was not closed meanwhile: its server stops promptly.
WATCHER_BLOCK = 250
ENDS = ("complete", "failed")
FAILED_STATUSES = (JobStatus.FAILED, JobStatus.STOPPED)
ENDED_STATUSES = (JobStatus.FINISHED, *FAILED_STATUSES)
SPENT_WHEN_FINISHED = ("success_callback_name", "failure_callback_name",
                       "stopped_callback_name", "failure_ttl", "exc_info")
FAILED_ATTEMPT = "failed attempt"
# Fields of a job's hash that RQ reads back as its defaults when missing
# (a missing timeout: the worker applies the default, 180 s).
DEFAULT_FIELDS = {"group_id": "", "timeout": Queue.DEFAULT_TIMEOUT,
                  "success_callback_timeout": CALLBACK_TIMEOUT,
                  "failure_callback_timeout": CALLBACK_TIMEOUT,
                  "stopped_callback_timeout": CALLBACK_TIMEOUT}
# Kue's priority levels: the lower the number, the sooner the job runs.
PRIORITIES = {"low": 10, "normal": 0, "medium": -5, "high": -10,
              "critical": -15}
BACKOFF_TYPES = ("fixed", "exponential")


def events_key(queue_name: str) -> str:
    """Return the key of QUEUE_NAME's event stream.

    kue:ids is a STRING counter; kue:events:QUEUE_NAME is a STREAM whose
    entries have the fields job (the id), event and value.
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
        """Return the ms to wait after failed attempt ATTEMPT (1, 2...).

        Fixed: the backoff's delay each time; exponential: that delay
        doubled after each failed attempt.
        """
        if self.backoff is None:
            return 0
        if self.backoff["type"] == "fixed":
            return self.backoff["delay"]
        return self.backoff["delay"] * 2 ** (attempt - 1)


def is_number(value: object) -> bool:
    """Tell whether VALUE is a finite int or float (not a bool)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def check_options(priority: str = "normal", attempts: int = 1,
                  backoff: bool | dict | None = None, delay: float = 0,
                  ttl: float | None = None, remove_on_complete: bool = False
                  ) -> Options:
    """Return Kue's job options checked; raise ValueError if one is bad.

    backoff=True is Kue's: a fixed backoff of the job's own delay.
    """
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


def check_backoff(backoff: bool | dict | None, delay: float
                  ) -> dict | None:
    """Return BACKOFF as {"type": ..., "delay": ms}, or None for none.

    DELAY (the job's) is the backoff's delay when it names none, as in Kue.
    """
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


class KueJob(Job):
    """An RQ job kept small in Redis, as small as Kue's.

    RQ writes each result to a stream of its own, rq:results:ID, which
    takes about 4.7 KB of Redis for its one entry (Redis preallocates
    stream nodes): three times the job itself. A job that returned nothing
    has nothing to keep there: its end is in its events, its status in its
    hash and in RQ's finished registry. Kue kept no such record either.
    A failed job keeps its error (the traceback) in its hash, as Kue did,
    in RQ's own field for it, exc_info, compressed. The job's hash also
    leaves out the fields that are empty or only repeat RQ's defaults:
    about 60 to 90 bytes of Redis each, and RQ's description of the job,
    its call, which repeats the job's data: it is made again from the data
    when asked for (see description).

    A worker of queuing.workers sets DEFER_END_EVENT on the job it runs:
    the job's end event (complete or failed) then waits in END_EVENT, and
    the worker writes it in the transaction that ends the job, with the
    job's status. Both are saved, or neither. (A failed attempt is not an
    end: its event is written at once, and the retry's due time counted
    from it.)
    """

    defer_end_event = False
    end_event: tuple[str, str] | None = None
    # A job's hash read with its id, per thread (see read_ahead).
    ahead = threading.local()

    @classmethod
    def read_ahead(cls, job_id: str, fields: list[bytes]) -> None:
        """Keep job JOB_ID's hash, read with its id (HGETALL's FIELDS).

        The next job this thread refreshes, if it is that one, is read from
        them instead of from Redis: one round trip less (see KueQueue.lmove
        in queuing.workers).
        """
        cls.ahead.entry = (job_id, dict(zip(fields[::2], fields[1::2])))

    @classmethod
    def forget_read_ahead(cls) -> None:
        """Drop this thread's hash read ahead, if its read never came."""
        cls.ahead.entry = None

    def refresh(self) -> None:
        """Read the job's hash from Redis, or from the one read ahead."""
        entry = getattr(self.ahead, "entry", None)
        self.ahead.entry = None
        if entry is None or entry[0] != self.id:
            super().refresh()
        elif not entry[1]:
            raise NoSuchJobError(f"No such job: {self.key}")
        else:
            self.restore(entry[1])

    @property
    def description(self) -> str | None:
        """Return RQ's description of the job: the one given, or its call.

        RQ stores the call ("7-job_processor.process_notification({...})"):
        with the room Redis gives a field that long, about 340 bytes per
        job, which put a queued job above Kue's size. RQ's worker logs and
        rq-dashboard (with --show-full-args) read it from the job's data.
        """
        if self._description is not None:
            return self._description
        return self.call_string()

    @description.setter
    def description(self, value: str | None) -> None:
        """Set the description RQ gives the job (or its call, at creation)."""
        self._description = value

    def call_string(self) -> str | None:
        """Return the job's call, as RQ writes it, or None if unreadable."""
        try:
            return self.get_call_string()
        except StopRequested:
            raise  # a stop signal, not the job's fault
        except Exception:
            return None

    def _handle_success(self, result_ttl: int, pipeline: Any,
                        *args: Any, **kwargs: Any) -> None:
        """Finish the job as RQ does, without the empty result stream."""
        if self._result is not None:
            super()._handle_success(result_ttl, pipeline, *args, **kwargs)
            return
        self.set_status(JobStatus.FINISHED, pipeline=pipeline)
        self.save(pipeline=pipeline, include_meta=False, include_result=False)
        if result_ttl != 0:
            self.finished_job_registry.add(self, result_ttl, pipeline)

    def _handle_failure(self, exc_string: str, pipeline: Any,
                        *args: Any, **kwargs: Any) -> None:
        """Fail the job as RQ does, its error in its hash, not a stream.

        RQ's failed registry saves the job with its error, which to_dict
        keeps; RQ's job.exc_info reads it back from there.
        """
        self.failed_job_registry.add(self, ttl=self.failure_ttl,
                                     exc_string=exc_string, pipeline=pipeline)

    def to_dict(self, include_meta: bool = True,
                include_result: bool = True) -> dict:
        """Return RQ's fields of the job, but those that say the default.

        The default description, the job's call, is left out too.

        A failed or stopped job keeps its error (RQ's exc_info field). An
        ended job's last heartbeat is emptied: its end says when. So are a
        finished job's callbacks and failure ttl, which were run or can no
        longer be (RQ requeues failed jobs only), and the error of a failed
        try that was requeued.
        """
        fields = super().to_dict(
            include_meta, include_result or self._status in FAILED_STATUSES)
        for name, default in DEFAULT_FIELDS.items():
            if fields.get(name) == default:
                del fields[name]
        if "description" in fields and (
                fields["description"] == self.call_string()):
            del fields["description"]
        if self._status in ENDED_STATUSES:
            fields["last_heartbeat"] = ""
        if self._status == JobStatus.FINISHED:
            fields.update(dict.fromkeys(SPENT_WHEN_FINISHED, ""))
        return fields

    def save(self, pipeline: Any = None, include_meta: bool = True,
             include_result: bool = True) -> None:
        """Write the job's hash as RQ does, deleting its empty fields.

        RQ empties a field (a retried job's worker_name, say) by writing
        ""; deleting it reads back the same, and keeps nothing.
        """
        if pipeline is None:
            with self.connection.pipeline() as own:
                self.save(own, include_meta, include_result)
                own.execute()
            return
        fields = self.to_dict(include_meta, include_result)
        empty = [name for name, value in fields.items() if value == ""]
        pipeline.hset(self.key, mapping={
            name: value for name, value in fields.items() if value != ""})
        if empty:
            pipeline.hdel(self.key, *empty)


def queue_for(queue_name: str, connection: redis.Redis) -> Queue:
    """Return the RQ queue QUEUE_NAME (Kue's job type), storing JSON.

    CONNECTION must not decode responses: RQ reads bytes.
    """
    return Queue(queue_name, connection=connection, job_class=KueJob,
                 serializer=JSONSerializer)


def new_job_id(connection: redis.Redis) -> str:
    """Return the next job id: 1, 2, 3... across runs, like Kue's."""
    return str(connection.incr(JOB_IDS_KEY))


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


def emit_end(job: Job, event: str, value: object = "", *,
             at_once: bool = False) -> None:
    """Record how JOB's try ended: with its end (see KueJob), or AT_ONCE.

    A try ends once: a later call (the job's finish was lost, and then it
    failed) replaces the event that waits.
    """
    if getattr(job, "defer_end_event", False) and not at_once:
        job.end_event = (event, str(value))
        return
    job.end_event = None
    emit(job, event, value)


def error_message(error: BaseException) -> str:
    """Return ERROR's message, or its class name when it has none."""
    return str(error) or type(error).__name__


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


def attempts_made(job: Job) -> int:
    """Return how many times JOB was tried, the try running included.

    A job function reads it as its attempt number: 1, 2, ...
    """
    return job.meta.get("attempts", 1) - (job.retries_left or 0)


def on_complete(job: Job, connection: redis.Redis, result: Any) -> None:
    """Record that JOB completed (RQ's success callback, run by the worker)."""
    if "priority" in job.meta:
        scheduling.forget(job)
    emit_end(job, "complete")


def on_failed(job: Job, connection: redis.Redis,
              exc_type: type[BaseException] | None,
              exc_value: BaseException | None,
              traceback: TracebackType | None) -> None:
    """Record that JOB failed, with its error message (RQ's failure callback).

    RQ also calls this for a job abandoned by a worker that died, with an
    exception that carries no message: its class name stands in. A job
    that ran past its ttl says so.
    """
    message = (error_message(exc_value) if exc_value is not None
               else getattr(exc_type, "__name__", ""))
    if isinstance(exc_value, JobTimeoutException) and "ttl" in job.meta:
        message = f"Job exceeded its ttl of {job.meta['ttl']} ms"
    record_failure(job, message)


def record_failure(job: Job, message: str) -> None:
    """Record JOB's failed try: a failed attempt if RQ retries it, else failed.

    Called before RQ retries the job or fails it for good; a retry after a
    backoff is given its exact due time, counted from the event.
    """
    if job.should_retry:
        # Not the job's end: written at once, its retry counted from it.
        emit_end(job, FAILED_ATTEMPT, f"{attempts_made(job)}: {message}",
                 at_once=True)
        interval = job.get_retry_interval()
        if interval:
            scheduling.retry_in(job, interval)
        return
    if "priority" in job.meta:
        scheduling.forget(job)
    emit_end(job, "failed", message)


def on_stopped(job: Job, connection: redis.Redis) -> None:
    """Record that JOB failed because it was stopped (RQ's stop callback)."""
    if "priority" in job.meta:
        scheduling.forget(job)
    emit_end(job, "failed", "Job stopped")


def function_path(function: Callable) -> str:
    """Return the dotted path RQ knows FUNCTION by ("6-job_processor.NAME").

    A script run from the shell is __main__, but its jobs name it by the
    file's name, which is how the work horse imports it (by its module's
    name when run with python -m: "tools.kue_options").
    """
    module = function.__module__
    if module == "__main__":
        main = sys.modules["__main__"]
        spec = getattr(main, "__spec__", None)
        module = spec.name if spec else Path(main.__file__).stem
    return f"{module}.{function.__qualname__}"


def create_job(queue: Queue, function: str | Callable, data: dict,
               job_id: str | None = None, *, priority: str = "normal",
               attempts: int = 1, backoff: bool | dict | None = None,
               delay: float = 0, ttl: float | None = None,
               remove_on_complete: bool = False) -> Job:
    """Queue a job that runs FUNCTION(DATA), with a Kue-like id and events.

    FUNCTION is the job function or its dotted path
    ("6-job_processor.process_notification"). The id is the next one,
    unless JOB_ID (from new_job_id) is given. The other options are Kue's
    (ms for times): PRIORITY (low, normal, medium, high, critical), up to
    ATTEMPTS tries, waiting BACKOFF between them (True, or {"type": "fixed"
    or "exponential", "delay": ms}), a start DELAY ms after now, failing
    past TTL ms of running, and no trace left once it completed with
    REMOVE_ON_COMPLETE. A bad option raises ValueError; nothing is queued.
    """
    options = check_options(priority, attempts, backoff, delay, ttl,
                            remove_on_complete)
    if callable(function):
        function = function_path(function)
    job_options: dict[str, Any] = {
        "job_id": job_id or new_job_id(queue.connection),
        # FINISHED_KEPT is RQ's default: a job need not store it.
        "result_ttl": 0 if remove_on_complete else None,
        "failure_ttl": FAILED_KEPT,
        "on_success": Callback(on_complete),
        "on_failure": Callback(on_failed),
        "on_stopped": Callback(on_stopped)}
    if options.meta():
        job_options["meta"] = options.meta()
    if attempts > 1:
        job_options["retry"] = Retry(attempts - 1, [
            options.backoff_delay(attempt) / 1000
            for attempt in range(1, attempts)])
    if ttl is not None:
        # RQ's job timeouts are whole seconds (SIGALRM): rounded up.
        job_options["job_timeout"] = math.ceil(ttl / 1000)
    return scheduling.enqueue(queue, function, data,
                              priority=PRIORITIES[priority], delay=delay,
                              **job_options)


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


class JobWatcher:
    """Hear the events of the jobs one process created, in a thread.

    A web server cannot wait for its jobs the way a creator script does:
    the watcher follows the queue's event stream in a daemon thread and
    calls ON_EVENT for each event of the jobs this process created with
    create(), whichever process ran them. A lost Redis is reported on
    stderr and the reading resumes where it stopped.
    """

    def __init__(self, queue: Queue,
                 on_event: Callable[[JobEvent], None]) -> None:
        """Prepare to create jobs on QUEUE and to report their events."""
        self.queue = queue
        self.on_event = on_event
        self.job_ids: set[str] = set()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()

    def create(self, function: str | Callable, data: dict,
               **options: Any) -> Job:
        """Create a job like create_job (Kue's OPTIONS too), and watch it."""
        check_options(**options)
        connection = self.queue.connection
        with self.lock:
            if self.thread is None:
                since = last_event_id(connection, self.queue.name)
                self.thread = threading.Thread(
                    target=self.follow, args=(since,), daemon=True)
                self.thread.start()
        job_id = new_job_id(connection)
        # Known before it is queued, so that no event of it is skipped.
        self.job_ids.add(job_id)
        try:
            return create_job(self.queue, function, data, job_id=job_id,
                              **options)
        except redis.RedisError:
            self.job_ids.discard(job_id)
            raise

    def follow(self, since: str) -> None:
        """Report the watched jobs' events after SINCE until close()."""
        while not self.stopping.is_set():
            try:
                for entry in read_events(self.queue.connection,
                                         self.queue.name, since,
                                         WATCHER_BLOCK):
                    if self.stopping.is_set():
                        return
                    if entry is None:
                        continue
                    since, event = entry
                    if event.job_id in self.job_ids:
                        if event.event in ENDS:
                            self.job_ids.discard(event.job_id)
                        self.on_event(event)
            except redis.RedisError as error:
                print(f"Redis error: {error}; retrying", file=sys.stderr)
                self.stopping.wait(1)

    def close(self) -> None:
        """Stop watching, waiting a little for the thread to end."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)


def _text(value: bytes | str) -> str:
    """Return VALUE as str, whether the client decodes replies or not."""
    return value.decode() if isinstance(value, bytes) else value
