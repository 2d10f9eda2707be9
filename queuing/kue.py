"""Kue's jobs on RQ: numbered ids, Kue's options, events from callbacks.

Jobs are stored as JSON, never pickle, which a worker would run as code.
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

JOB_IDS_KEY = "kue:ids"  # a STRING, the last id handed out
# KEYS: the counter; ARGV: the prefix of job keys. The ids of jobs still in
# Redis (after the counter was reset or evicted) are skipped.
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
    """Return the next job id, 1, 2, 3... across runs, never one in use."""
    return str(retried(connection.eval, NEW_ID_SCRIPT, 1, JOB_IDS_KEY,
                       Job.redis_job_namespace_prefix))


def error_message(error: BaseException) -> str:
    """Return ERROR's message, or its class name when it has none."""
    return str(error) or type(error).__name__


def attempts_made(job: Job) -> int:
    """Return JOB's attempt number, 1, 2..., the try running included."""
    return job.meta.get("attempts", 1) - (job.retries_left or 0)


def ended(job: Job, event: str, value: str = "") -> None:
    """Record JOB's end EVENT, and forget its priority."""
    if "priority" in job.meta:
        scheduling.forget(job)
    emit(job, event, value)


def on_complete(job: Job, connection: redis.Redis, result: Any) -> None:
    """Record that JOB completed (RQ's success callback)."""
    ended(job, "complete")


def on_failed(job: Job, connection: redis.Redis,
              exc_type: type[BaseException] | None,
              exc_value: BaseException | None,
              traceback: TracebackType | None) -> None:
    """Record JOB's failed try: a failed attempt while RQ will retry it."""
    message = (error_message(exc_value) if exc_value is not None
               else getattr(exc_type, "__name__", ""))
    if isinstance(exc_value, JobTimeoutException) and "ttl" in job.meta:
        message = f"Job exceeded its ttl of {job.meta['ttl']} ms"
    if job.should_retry:
        emit(job, FAILED_ATTEMPT, f"{attempts_made(job)}: {message}")
        return
    ended(job, "failed", message)


def on_stopped(job: Job, connection: redis.Redis) -> None:
    """Record that JOB failed because it was stopped (RQ's stop callback)."""
    ended(job, "failed", "Job stopped")


CALLBACKS = {"on_success": Callback(on_complete),
             "on_failure": Callback(on_failed),
             "on_stopped": Callback(on_stopped)}


def function_path(function: Callable) -> str:
    """Return FUNCTION's dotted path, by the script's name if in __main__."""
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
    """Queue FUNCTION(DATA) (a function or its path) with Kue's id, events.

    OPTIONS are Kue's, in ms (queuing.options); a bad one raises ValueError
    and nothing is queued.
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
    """Call ON_EVENT, in a thread, for each event of the jobs create() made."""

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
