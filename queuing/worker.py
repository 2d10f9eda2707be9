"""The RQ worker of Kue's ``queue.process``, and its rules.

``KueWorker`` is RQ's ``SimpleWorker`` (jobs run in its own process, as in
Kue). It runs only the job functions it was given, and only queuing.kue's
callbacks, so a forged job cannot make it call os.system; it fails jobs it
cannot read; it sees a stop between two one-second waits; and it stops
cleanly on Ctrl-C or SIGTERM at any moment (queuing.signals).
``ThreadWorker`` is the same worker in a web server's thread.
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

# The callbacks queuing.kue.create_job attaches: no other is run.
KUE_CALLBACKS = frozenset(callback.name for callback in kue.CALLBACKS.values())
CALLBACK_FIELDS = ("success_callback_name", "failure_callback_name",
                   "stopped_callback_name")
WORKER_TTL = 20
# A worker's commands are sent again on a new connection when the old one
# dropped, for about 8 s: its writes, and its jobs' (events, seats), are
# safe to repeat, so a lost reply neither fails a job nor doubles a write.
RECONNECTING = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.5), 20,
                     supported_errors=(redis.ConnectionError,))
# RQ's transaction that ends a job is not safe to repeat: it is sent once,
# and sent again only if Redis shows that it did not run.
SENT_ONCE = Retry(NoBackoff(), 0)
HEARTBEAT_EVERY = 1.0
# Seconds a worker waits for a job before it looks whether to stop.
WAIT_SLICE = 1
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
    # RQ's shutdown command signals the whole process: fine for a pool's
    # worker, not for a web server's.
    stops_alone = False
    wait_slice = WAIT_SLICE
    torn_down = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make the worker; its key outlives it by a minute, not RQ's seven.

        Its connection (its own) reconnects and sends again (RECONNECTING);
        its hostname names its PID namespace too (see recovery.machine).
        """
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

    def between_waits(self) -> None:
        """Do what must be done between two waits for a job: nothing here."""

    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None
                                     ) -> Any:
        """Wait for a job a slice at a time; None once stopping.

        Jobs that cannot be read are failed on the way (RQ names them in the
        error). In burst mode (TIMEOUT None) the worker never waits.
        """
        wait = None if timeout is None else self.wait_slice
        while not self.stop_wanted():
            self.between_waits()
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
        # RQ logs a failure it could not save, and goes on: Redis is asked.
        self.end_once(job, True, super().handle_job_failure, job, queue,
                      *args, **kwargs)

    def end_once(self, job: Job, quiet: bool, end: Any, *args: Any,
                 **kwargs: Any) -> None:
        """Run RQ's END of JOB until Redis holds it, and never twice.

        RQ's transaction is sent once; after a dropped connection (or always,
        if END is QUIET about it) Redis is asked whether the job's status is
        the one END wrote, until it is or the worker must stop. RQ would
        leave the job started for ever, or fail a job that ran.
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
        """Listen for RQ's commands in a thread that wakes every slice.

        The thread starts with the stop signals blocked: one handed to it would
        not interrupt the main thread's wait for a job.
        """
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
        """Ride out a lost Redis as RQ does; else stop listening, and say so.

        A Redis user without SUBSCRIBE, say: the worker works on, deaf to
        RQ's commands, where RQ's thread would end the whole process.
        """
        if isinstance(error, redis.ConnectionError):
            self.log.error("Worker %s: could not listen for RQ's commands: "
                           "%s; trying again", self.name, error)
            time.sleep(self.wait_slice)
            return
        self.log.error("Worker %s: not listening for RQ's commands: %s",
                       self.name, error)
        thread.stop()

    def unsubscribe(self) -> None:
        """Stop the listening thread, which unsubscribes as it closes.

        RQ sends UNSUBSCRIBE first, and a thread that read the reply waits
        again; here a message of no command wakes it.
        """
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
        """Install RQ's handlers, then honour a stop that came before them.

        A worker in a thread (ThreadWorker) leaves signals to its server.
        """
        if threading.current_thread() is not threading.main_thread():
            return
        super()._install_signal_handlers()
        if signals.early_stop_requested:
            self._stop_requested = True

    def _shutdown(self) -> None:
        """Note the stop; interrupt the worker only while it waits for a job.

        RQ raises StopRequested wherever the main thread is, where a library's
        ``except Exception`` may swallow it, or a destructor print it.
        """
        self._stop_requested = True
        if signals.waiting_for_a_job or (
                self.get_state() == WorkerStatus.BUSY):
            super()._shutdown()  # busy: RQ notes it and lets the job end


class ThreadWorker(KueWorker):
    """A KueWorker in a web server's thread.

    Job timeouts use a timer, as signals belong to the main thread; the
    worker stops once its ``stopping`` event is set.
    """

    death_penalty_class = TimerDeathPenalty
    wait_slice = SERVER_WAIT_SLICE
    stops_alone = True
    # Set by its BackgroundWorker.
    stopping: threading.Event
    upkeep: list

    def stop_wanted(self) -> bool:
        """Tell whether the server closed the worker, or RQ told it to stop."""
        return self.stopping.is_set() or self._stop_requested

    def between_waits(self) -> None:
        """Run the upkeep tasks that are due."""
        run_due(self.upkeep)
