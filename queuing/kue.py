"""Kue's jobs on RQ: numbered ids, options by Kue's names, events.

Ids come from the counter ``kue:ids`` (a STRING), as Kue's 1, 2, 3...;
``create_job`` takes Kue's options (queuing.options) and attaches RQ
callbacks that write each job's events (queuing.events): RQ calls the
failure callback on every failed try, a ``failed attempt`` while RQ's
``Retry`` has tries left. Jobs are stored as JSON, never pickle, which a
worker would run as code.
"""
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import redis
from rq import Callback, Queue
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.timeouts import JobTimeoutException

from queuing import connection as connection_module, scheduling
from queuing.events import (ENDS, FAILED_ATTEMPT, WATCHER_BLOCK,  # noqa: F401
                            JobEvent, emit, failed_attempt,
                            follow_in_background, job_events, last_event_id,
                            read_events, record_event, report_progress,
                            retried)
from queuing.options import PRIORITIES, check_options

JOB_IDS_KEY = "kue:ids"
# KEYS: the counter; ARGV: the prefix of job keys. A counter evicted or
# reset would hand out the ids of jobs still in Redis: those are skipped.
NEW_ID_SCRIPT = """
local id
repeat
    id = redis.call('INCR', KEYS[1])
until redis.call('EXISTS', ARGV[1] .. id) == 0
return id
"""


def queue_for(queue_name: str, connection: redis.Redis) -> Queue:
    """Return the RQ queue QUEUE_NAME (Kue's job type), not decoding."""
    connection_module.warn_if_evicting(connection)
    return scheduling.KueQueue(queue_name, connection=connection,
                               serializer=JSONSerializer)


def new_job_id(connection: redis.Redis) -> str:
    """Return the next job id, 1, 2, 3... across runs, never one in use.

    A reply lost to a dropped connection costs an id: the next is taken.
    """
    return str(retried(connection.eval, NEW_ID_SCRIPT, 1, JOB_IDS_KEY,
                       Job.redis_job_namespace_prefix))


def error_message(error: BaseException) -> str:
    """Return ERROR's message, or its class name when it has none."""
    return str(error) or type(error).__name__


def attempts_made(job: Job) -> int:
    """Return JOB's attempt number, 1, 2..., the try running included."""
    return job.meta.get("attempts", 1) - (job.retries_left or 0)


def on_complete(job: Job, connection: redis.Redis, result: Any) -> None:
    """Record that JOB completed (RQ's success callback)."""
    if "priority" in job.meta:
        scheduling.forget(job)
    emit(job, "complete")


def on_failed(job: Job, connection: redis.Redis,
              exc_type: type[BaseException] | None,
              exc_value: BaseException | None,
              traceback: TracebackType | None) -> None:
    """Record JOB's failed try (RQ's failure callback, on every try).

    A try that RQ will retry is a failed attempt, "ATTEMPT: MESSAGE".
    """
    message = (error_message(exc_value) if exc_value is not None
               else getattr(exc_type, "__name__", ""))
    if isinstance(exc_value, JobTimeoutException) and "ttl" in job.meta:
        message = f"Job exceeded its ttl of {job.meta['ttl']} ms"
    if job.should_retry:
        emit(job, FAILED_ATTEMPT, f"{attempts_made(job)}: {message}")
        return
    if "priority" in job.meta:
        scheduling.forget(job)
    emit(job, "failed", message)


def on_stopped(job: Job, connection: redis.Redis) -> None:
    """Record that JOB failed because it was stopped (RQ's stop callback)."""
    if "priority" in job.meta:
        scheduling.forget(job)
    emit(job, "failed", "Job stopped")


CALLBACKS = {"on_success": Callback(on_complete),
             "on_failure": Callback(on_failed),
             "on_stopped": Callback(on_stopped)}


def function_path(function: Callable) -> str:
    """Return the dotted path RQ knows FUNCTION by ("6-job_processor.NAME").

    A script run from the shell is __main__; the worker imports it by name.
    """
    module = function.__module__
    if module == "__main__":
        main = sys.modules["__main__"]
        spec = getattr(main, "__spec__", None)
        module = spec.name if spec else Path(main.__file__).stem
    return f"{module}.{function.__qualname__}"


def check_data(data: object, name: str = "Job data") -> None:
    """Raise ValueError, naming NAME, unless DATA can be stored as JSON."""
    try:
        JSONSerializer.dumps(data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} cannot be stored as JSON: {error}") from None


def create_job(queue: Queue, function: str | Callable, data: dict,
               job_id: str | None = None, **options: Any) -> Job:
    """Queue a job that runs FUNCTION(DATA), with a Kue-like id and events.

    FUNCTION is the job function or its dotted path; JOB_ID defaults to the
    next id. OPTIONS are Kue's, in ms: priority, attempts, backoff, delay,
    ttl, remove_on_complete. A bad option raises ValueError; nothing is
    queued.
    """
    checked = check_options(**options)
    check_data(data)
    if callable(function):
        function = function_path(function)
    job_id = job_id or new_job_id(queue.connection)
    rq_options = {"job_id": job_id, **checked.rq_options(), **CALLBACKS}
    jobs: list[Job] = []

    def write() -> None:
        """Store and queue the job in one transaction: all of it, or none."""
        with queue.connection.pipeline() as pipeline:
            pipeline.multi()  # RQ's enqueue would, after the priority's HSET
            scheduling.set_priority(queue, job_id,
                                    PRIORITIES[checked.priority], pipeline)
            if checked.start_in():
                jobs.append(queue.enqueue_in(
                    checked.start_in(), function, data, pipeline=pipeline,
                    **rq_options))
            else:
                jobs.append(queue.enqueue(function, data, pipeline=pipeline,
                                          **rq_options))
            pipeline.execute()

    # Written again only if Redis did not store it (its reply was lost).
    retried(write, landed=lambda: bool(
        queue.connection.exists(Job.key_for(job_id))))
    return jobs[-1]


class JobWatcher:
    """Hear the events of the jobs this process created, in a thread.

    For a web server: ON_EVENT is called for each event of the jobs made
    with create(), whichever process ran them.
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
