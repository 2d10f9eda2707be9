"""The RQ worker that runs Kue's ``queue.process``, and its rules.

``KueWorker`` is RQ's ``SimpleWorker``: it runs each job in its own
process, as Kue did, instead of RQ's fork per job. Around RQ's loop it:

- runs only the job functions it was given, as Kue ran only the function
  passed to queue.process: a job that names another one (say os.system),
  or callbacks other than queuing.kue's, fails at once, and nothing it
  names is imported or called;
- fails a job whose hash cannot be read, instead of dying on it;
- waits for jobs a second at a time, so that it sees a stop between two
  waits, and sends its heartbeat at most once a second;
- stops cleanly on Ctrl-C or SIGTERM at any moment (queuing.signals);
- ends if Redis lost a job's failure, so that recovery runs the job again.

``ThreadWorker`` is the same worker in a web server's thread.
"""
import threading
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.job import Job
from rq.timeouts import TimerDeathPenalty
from rq.utils import now
from rq.worker import WorkerStatus

from queuing import kue, signals
from queuing.recovery import fail_unreadable
from queuing.scheduling import KueQueue

# The callbacks queuing.kue.create_job attaches: no other is run.
KUE_CALLBACKS = frozenset(callback.name for callback in kue.CALLBACKS.values())
CALLBACK_FIELDS = ("success_callback_name", "failure_callback_name",
                   "stopped_callback_name")
# A worker's heartbeat: its key outlives a silent worker by 60 s more.
WORKER_TTL = 20
# RQ sends a heartbeat up to five times per job; one a second is plenty
# for a key that lives 80 s.
HEARTBEAT_EVERY = 1.0
# Seconds a worker waits for a job at a time before it looks whether it
# was asked to stop; a web server's worker, which has no signal, waits as
# little as the server's job watcher.
WAIT_SLICE = 1
SERVER_WAIT_SLICE = kue.WATCHER_BLOCK / 1000
# What a worker sends its own listening thread to wake it: RQ's commands
# ignore a message that names none of them.
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
    wait_slice = WAIT_SLICE
    torn_down = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make the worker, with a heartbeat key that outlives it briefly.

        RQ's default lets a dead worker look alive for 7 minutes.
        """
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)

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
        """Wait for a job a slice at a time; None (stop) once stopping.

        Unreadable jobs are failed on the way. In RQ's burst mode (TIMEOUT
        None) the worker takes a job if there is one, and never waits.
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

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any,
                           **kwargs: Any) -> None:
        """Fail JOB as RQ does; end the worker if Redis lost the failure.

        RQ logs a failure that it could not save and goes on: the job
        stayed started, in the registry of a live worker, and nothing would
        ever end it. Ending the worker lets recovery run the job again.
        """
        super().handle_job_failure(job, queue, *args, **kwargs)
        saved = self.connection.hget(job.key, "status")
        if saved is not None and saved.decode() != job.get_status(
                refresh=False):
            raise redis.ConnectionError(
                f"Redis lost the failure of job {job.id}")

    def subscribe(self) -> None:
        """Listen for RQ's commands, waking every wait slice.

        RQ's listening thread waits up to a minute for a message. It starts
        with the stop signals blocked: a signal that the kernel handed to
        it would not interrupt the main thread's wait for a job.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name,
                      self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(
            **{self.pubsub_channel_name: self.handle_payload})
        with signals.stops_blocked():
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=self.wait_slice, daemon=True,
                exception_handler=self._pubsub_exception_handler)

    def unsubscribe(self) -> None:
        """Stop the listening thread; it closes its connection as it ends.

        RQ sends UNSUBSCRIBE from this thread, then stops the listening
        thread: one that read the reply in between waits again. Here a
        message of no command wakes the thread, whose closing connection
        unsubscribes it.
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
        """Unregister and unsubscribe once, deaf to further stop signals.

        A second Ctrl-C would interrupt RQ's cleanup with StopRequested,
        leaving the worker registered.
        """
        if self._stop_requested and (
                threading.current_thread() is threading.main_thread()):
            signals.ignore_stops()
        if not self.torn_down:
            self.torn_down = True
            super().teardown()

    def _install_signal_handlers(self) -> None:
        """Install RQ's handlers, then honour a stop that came before them.

        Pinned: tests/test_queuing_pins.py.
        """
        super()._install_signal_handlers()
        if signals.early_stop_requested:
            self._stop_requested = True

    def _shutdown(self) -> None:
        """Note the stop; interrupt the worker only if it waits for a job.

        RQ raises StopRequested in whatever code the main thread runs; a
        library's ``except Exception`` could swallow it, and a destructor
        would print it as a traceback. Here the worker checks for the stop
        between two waits. Pinned: tests/test_queuing_pins.py.
        """
        self._stop_requested = True
        if signals.waiting_for_a_job or (
                self.get_state() == WorkerStatus.BUSY):
            super()._shutdown()  # busy: RQ notes it and lets the job end


class ThreadWorker(KueWorker):
    """A KueWorker in a thread of a web server.

    Signal handlers belong to the server's main thread, so job timeouts use
    a timer instead of SIGALRM, and the worker stops when its ``stopping``
    event is set, within a quarter second.
    """

    death_penalty_class = TimerDeathPenalty
    wait_slice = SERVER_WAIT_SLICE
    # Set by its BackgroundWorker: its stop, and the upkeep tasks that it
    # runs between two waits for a job.
    stopping: threading.Event
    upkeep: list

    def stop_wanted(self) -> bool:
        """Tell whether the server closed the worker."""
        return self.stopping.is_set()

    def between_waits(self) -> None:
        """Run the upkeep tasks that are due."""
        run_due(self.upkeep)

    def _install_signal_handlers(self) -> None:
        """Leave signals to the server. Pinned: tests/test_queuing_pins.py."""
