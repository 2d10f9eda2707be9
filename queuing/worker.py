"""The RQ worker of Kue's ``queue.process``, and its rules.

``KueWorker``, RQ's ``SimpleWorker`` (jobs run in its process, as in Kue),
runs only the job functions and callbacks it was given, so a forged job
cannot call os.system, and stops cleanly at any moment. ``ThreadWorker``
is the same worker in a web server's thread.
"""
import json
import threading
import time
from typing import Any

import redis
from redis.backoff import ExponentialWithJitterBackoff, NoBackoff
from redis.retry import Retry
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.timeouts import TimerDeathPenalty
from rq.utils import now
from rq.worker import WorkerStatus

from queuing import kue, signals
from queuing.recovery import fail_unreadable, machine
from queuing.scheduling import KueQueue

KUE_CALLBACKS = frozenset(callback.name for callback in kue.CALLBACKS.values())
CALLBACK_FIELDS = ("success_callback_name", "failure_callback_name",
                   "stopped_callback_name")
WORKER_TTL = 20
# A worker's writes, and its jobs' (events, seats), are safe to repeat:
# sent again on a new connection for about 8 s after a dropped one.
RECONNECTING = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), 20,
                     supported_errors=(redis.ConnectionError,))
# RQ's transaction that ends a job is not safe to repeat: it is sent once,
# and sent again only if Redis shows that it did not run.
SENT_ONCE = Retry(NoBackoff(), 0)
HEARTBEAT_EVERY = 1.0
WAIT_SLICE = 1  # seconds a worker waits for a job between two stop checks
SERVER_WAIT_SLICE = kue.WATCHER_BLOCK / 1000
# Wakes a worker's listening thread; RQ ignores a message of no command.
WAKE_UP = '{"command": "wake-up"}'


def run_due(tasks: list) -> None:
    """Run each of TASKS (Recovery, Promotion) whose time has come."""
    for task in tasks:
        try:
            task.run_if_due()
        except redis.RedisError:
            pass  # Redis is away: the workers say so; next time


class KueWorker(SimpleWorker):
    """An RQ worker of Kue's rules (see the module's docstring)."""

    job_functions: frozenset[str] = frozenset()
    queue_class = KueQueue
    stops_alone = False  # RQ's shutdown command signals the whole process
    wait_slice = WAIT_SLICE
    torn_down = False
    upkeep: tuple = ()  # Recovery, Promotion: a pool's loop runs them

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make the worker: a short TTL, a reconnecting link, the namespace."""
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)
        self.connection.set_retry(RECONNECTING)
        self.hostname = machine()

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Work as RQ does; RQ's scheduler runs in the pool's loop instead."""
        kwargs["with_scheduler"] = False
        return super().work(*args, **kwargs)

    def heartbeat(self, timeout: int | None = None,
                  pipeline: Any = None) -> None:
        """Send RQ's heartbeat, at most once a second unless it says more."""
        last = getattr(self, "last_heartbeat", None)
        if (pipeline is None and last is not None
                and (timeout or 0) <= self.worker_ttl + 60
                and (now() - last).total_seconds() < HEARTBEAT_EVERY):
            return
        super().heartbeat(timeout, pipeline)

    def stop_wanted(self) -> bool:
        """Tell whether the worker was asked to stop."""
        return self._stop_requested

    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None
                                     ) -> Any:
        """Wait for a job a slice at a time, failing the unreadable ones."""
        wait = None if timeout is None else self.wait_slice
        while not self.stop_wanted():
            run_due(self.upkeep)  # between two waits for a job
            try:
                result = super().dequeue_job_and_maintain_ttl(wait, wait)
            except (redis.ConnectionError, redis.TimeoutError,
                    StopRequested):
                raise  # not the job's fault
            except Exception as error:
                if getattr(error, "job_id", None) is None:
                    raise
                self.log.error("Job %s: unreadable: %s", error.job_id, error)
                fail_unreadable(error.queue, error.job_id,
                                kue.error_message(error))
                continue
            if result is not None or wait is None:
                return result
        return None

    def refusal(self, job: Job) -> str | None:
        """Return why JOB must not run here, or None if it may."""
        try:
            function = job.func_name
            fields = job.to_dict(include_meta=False)
        except StopRequested:
            raise  # a stop signal, not the job's fault
        except Exception as error:
            return f"Job data could not be read: {kue.error_message(error)}"
        if function not in self.job_functions:
            return (f"Refused to run {function}: this processor runs only "
                    + ", ".join(sorted(self.job_functions)))
        for field in CALLBACK_FIELDS:
            callback = fields.get(field)
            if callback and callback not in KUE_CALLBACKS:
                return f"Refused to run the callback {callback}"
        return None

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run JOB as RQ does, unless it is refused: then fail it at once."""
        reason = self.refusal(job)
        if reason is None:
            super().execute_job(job, queue)
            return
        self.log.error("Job %s: %s", job.id, reason)
        job.retries_left = None
        job.ended_at = now()
        kue.emit(job, "failed", reason)
        self.handle_job_failure(job, queue, exc_string=reason)
        queue.intermediate_queue.remove(job.id)

    def handle_job_success(self, job: Job, queue: Queue, *args: Any,
                           **kwargs: Any) -> None:
        """Save JOB's success as RQ does, once (see end_once)."""
        self.end_once(job, False, super().handle_job_success, job, queue,
                      *args, **kwargs)

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any,
                           **kwargs: Any) -> None:
        """Save JOB's failure (or next try) as RQ does, once (end_once)."""
        self.end_once(job, True, super().handle_job_failure, job, queue,
                      *args, **kwargs)

    def end_once(self, job: Job, quiet: bool, end: Any, *args: Any,
                 **kwargs: Any) -> None:
        """Run RQ's END of JOB until Redis holds it, and never twice.

        RQ's transaction is sent once; after a dropped link (or always, if
        END is QUIET, logging its errors) Redis is asked whether it ran.
        """
        while True:
            self.connection.set_retry(SENT_ONCE)
            try:
                end(*args, **kwargs)
            except redis.ConnectionError as error:
                lost = error  # its reply, or the whole transaction
            else:
                lost = None
            finally:
                self.connection.set_retry(RECONNECTING)
            if lost is None and not quiet:
                return
            try:
                saved = self.connection.hget(job.key, "status")
            except redis.ConnectionError as error:
                lost = error
            else:
                if saved is None or saved.decode() == job.get_status(
                        refresh=False):
                    return  # it ran, even if its reply was lost
            if self.stop_wanted():
                raise lost or redis.ConnectionError(
                    f"Redis lost the end of job {job.id}")
            time.sleep(0.1)  # then ask again: Redis may be restarting

    def handle_payload(self, message: dict) -> None:
        """Act on an RQ command as RQ does; log any other message, once."""
        try:
            payload = json.loads(message["data"])
            command = payload["command"]
        except (ValueError, TypeError, KeyError):
            self.log.error("Worker %s: ignored a message that is no RQ "
                           "command: %r", self.name, message.get("data"))
            return
        if command == "shutdown" and self.stops_alone:
            self.log.error("Worker %s: stopping, as told", self.name)
            self._stop_requested = True
            return
        super().handle_payload(message)

    def subscribe(self) -> None:
        """Listen for RQ's commands in a thread deaf to the stop signals."""
        self.log.info("Worker %s: subscribing to channel %s", self.name,
                      self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(
            **{self.pubsub_channel_name: self.handle_payload})
        with signals.stops_blocked():
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=self.wait_slice, daemon=True,
                exception_handler=self.listening_failed)

    def listening_failed(self, error: Exception, pubsub: Any,
                         thread: Any) -> None:
        """Ride out a lost Redis; else (no SUBSCRIBE, say) stop listening."""
        if isinstance(error, redis.ConnectionError):
            self.log.error("Worker %s: could not listen for RQ's commands: "
                           "%s; trying again", self.name, error)
            time.sleep(self.wait_slice)
            return
        self.log.error("Worker %s: not listening for RQ's commands: %s",
                       self.name, error)
        thread.stop()

    def unsubscribe(self) -> None:
        """Stop the listening thread, woken by a message of no command."""
        if not self.pubsub_thread:
            return
        self.log.info("Worker %s: unsubscribing from channel %s", self.name,
                      self.pubsub_channel_name)
        self.pubsub_thread.stop()
        try:
            self.connection.publish(self.pubsub_channel_name, WAKE_UP)
        except redis.RedisError:
            pass  # Redis is away: the thread wakes within its wait slice
        self.pubsub_thread.join(timeout=self.wait_slice + 1)
        self.pubsub_thread = None

    def teardown(self) -> None:
        """Unregister once, deaf to a second stop signal meanwhile."""
        if self._stop_requested and (
                threading.current_thread() is threading.main_thread()):
            signals.ignore_stops()
        if not self.torn_down:
            self.torn_down = True
            super().teardown()

    def _install_signal_handlers(self) -> None:
        """Install RQ's handlers (main thread), honour an earlier stop."""
        if threading.current_thread() is not threading.main_thread():
            return
        super()._install_signal_handlers()
        if signals.early_stop_requested:
            self._stop_requested = True

    def _shutdown(self) -> None:
        """Note the stop; interrupt the worker only while it waits for a job.

        RQ raises StopRequested anywhere, where an ``except Exception`` may
        swallow it.
        """
        self._stop_requested = True
        if signals.waiting_for_a_job or (
                self.get_state() == WorkerStatus.BUSY):
            super()._shutdown()  # busy: RQ notes it and lets the job end


class ThreadWorker(KueWorker):
    """A KueWorker in a web server's thread, with timer timeouts."""

    death_penalty_class = TimerDeathPenalty
    wait_slice = SERVER_WAIT_SLICE
    stops_alone = True
    stopping: threading.Event  # set by its BackgroundWorker, as upkeep

    def stop_wanted(self) -> bool:
        """Tell whether the server closed the worker, or RQ told it to stop."""
        return self.stopping.is_set() or self._stop_requested
