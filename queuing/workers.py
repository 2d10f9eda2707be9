"""RQ workers that run Kue's ``queue.process``, hardened.

Kue ran a queue's jobs inside the process that called
``queue.process(type, n, fn)`` and stopped with it. RQ's workers are
separate processes with signal handlers of their own, and a few races in
them show as tracebacks, hangs or lost jobs when a learner presses Ctrl-C.
``process`` runs a pool of workers that:

- stop promptly and cleanly on Ctrl-C or SIGTERM, at any moment, even one
  that comes before RQ has installed its handlers;
- run without RQ's scheduler process (a scheduler forked while the worker
  starts could miss its stop signal, leaving the pool waiting for it
  forever): the pool's own loop moves delayed jobs and retries into the
  queue when they are due (queuing.scheduling);
- run each job in the worker's own process, as Kue did, instead of RQ's
  fork per job (several times the throughput); a job that kills that
  process is still reported (the pool recovers the dead worker's job at
  once, and starts another worker);
- log one line per record on stderr, errors only (RQ_LOGGING_LEVEL=INFO
  shows everything), keeping stdout for the task's own lines;
- run only the job function they were given, as Kue ran only the function
  passed to queue.process: a job that names any other function (say
  os.system), or callbacks other than queuing.kue's, fails at once with a
  failed event, and nothing it names is imported or called;
- fail a job whose hash cannot be read (tampered, half-deleted) with a
  failed event, instead of dying on it and stranding it;
- end a worker whose job's failure Redis lost (RQ logs it and goes on,
  leaving the job started for ever): recovery runs the job again;
- write a job's end event (complete, failed) in the transaction that ends
  the job, so that both are saved or neither, and spare RQ's round trips
  that a worker running jobs in its own process does not need (the idle
  state between two jobs, a second transaction to start each);
- end the jobs of workers that died (queuing.recovery), at start and every
  few seconds, and carry on through a Redis restart.

``BackgroundWorker`` is the worker a web server runs in a thread of its own
(task 13's ``/process``).
"""
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.process import BaseProcess
from typing import Any

import redis
from rq import Queue, SimpleWorker
from rq.exceptions import StopRequested
from rq.executions import Execution
from rq.job import Job
from rq.logutils import setup_loghandlers
from rq.utils import now
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty
from rq.worker import WorkerStatus
from rq.worker_pool import ForkProcess, WorkerData, WorkerPool, run_worker

from queuing import kue
from queuing.recovery import Recovery
from queuing.scheduling import Promotion

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# Set by a stop signal that comes before RQ has installed its handlers. A
# plain flag, not a threading.Event: a second signal could interrupt the
# first handler inside Event.set and wait forever on the Event's lock.
early_stop_requested = False
# True while a worker waits in Redis for a job: the one moment when a stop
# signal interrupts the code that runs (see KueWorker._shutdown).
waiting_for_a_job = False


# The callbacks queuing.kue.create_job attaches: no other is run.
KUE_CALLBACKS = frozenset(f"{kue.__name__}.{callback.__name__}" for callback
                          in (kue.on_complete, kue.on_failed, kue.on_stopped))
# An unreadable job's hash is kept this long, for a look, then expires.
UNREADABLE_KEPT = 24 * 3600
# A worker's heartbeat: its key outlives a silent worker by 60 s more.
WORKER_TTL = 20
# RQ sends a heartbeat (three commands) up to five times per job; one a
# second is plenty for a key that lives 80 s.
HEARTBEAT_EVERY = 1.0
# A worker waits for a job this many seconds at a time, then checks that
# it was not asked to stop meanwhile. A processor's Ctrl-C ends its wait at
# once; a web server's worker thread has no signal, and waits as little as
# the server's job watcher, so that the server stops promptly.
WAIT_SLICE = 1
SERVER_WAIT_SLICE = kue.WATCHER_BLOCK / 1000
# The pool checks its workers every second, as RQ's does, but looks this
# often whether it was told to stop, its workers have ended, or a delayed
# job is due.
POOL_CHECK_EVERY = 1.0
POOL_TICK = 0.05
# What a worker sends its own listening thread to wake it: RQ's commands
# (shutdown, kill-horse, ...) ignore a message that names none of them.
WAKE_UP = '{"command": "wake-up"}'


class UnreadableJob(Exception):
    """A dequeued job whose hash cannot be turned back into a job."""

    def __init__(self, queue_name: str, job_id: str, reason: object) -> None:
        """Remember which job of which queue, and why it cannot be read."""
        super().__init__(f"Job data could not be read: {reason}")
        self.queue_name = queue_name
        self.job_id = job_id


# KEYS: a queue and its intermediate list; ARGV: the prefix of job keys.
# Takes the next job id as RQ's LMOVE does, and returns it with the job's
# hash, or alone when its key holds no hash (the worker then reads it as
# RQ does, and fails it as unreadable).
TAKE_SCRIPT = """
local job_id = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT')
if not job_id then
    return false
end
local fields = redis.pcall('HGETALL', ARGV[1] .. job_id)
if fields.err then
    return {job_id}
end
return {job_id, fields}
"""


class KueQueue(Queue):
    """RQ's queue, telling a job that cannot be read from one that is gone.

    RQ skips a dequeued job whose hash has no data as if it were deleted,
    and lets any other error of reading it end the worker; either way the
    job's id stays behind in the intermediate queue with no event. It also
    notes when a worker waits for a job (see KueWorker._shutdown), and
    takes a job that is there already with its hash, in one round trip.
    """

    @classmethod
    def _fetch_dequeued_job(cls, connection: redis.Redis, queue_key: str,
                            job_id: str, **options: Any
                            ) -> tuple[Job, Queue] | None:
        """Fetch the job RQ dequeued; raise UnreadableJob if it is broken."""
        queue_name = queue_key.removeprefix(cls.redis_queue_namespace_prefix)
        try:
            found = super()._fetch_dequeued_job(connection, queue_key, job_id,
                                                **options)
        except (redis.ConnectionError, redis.TimeoutError, StopRequested):
            # Not the job's fault: Redis is away, or a stop signal came in.
            raise
        except Exception as error:
            raise UnreadableJob(queue_name, job_id,
                                kue.error_message(error)) from error
        if found is None:
            if connection.exists(Job.key_for(job_id)):
                raise UnreadableJob(queue_name, job_id, "it has no data")
            connection.lrem(f"{queue_key}:intermediate", 1, job_id)
        return found

    @classmethod
    def lmove(cls, connection: redis.Redis, queue_key: str,
              timeout: int | None) -> Any:
        """Wait for a job id and move it as RQ does, noting the wait.

        Without a wait (TIMEOUT None), the id comes with the job's hash, in
        one round trip instead of two: the job is then read from it.
        """
        with waiting():
            if timeout is not None:
                return super().lmove(connection, queue_key, timeout)
            taken = connection.register_script(TAKE_SCRIPT)(
                keys=[queue_key, f"{queue_key}:intermediate"],
                args=[Job.redis_job_namespace_prefix])
        if taken is None:
            return None
        job_id, *fields = taken
        if fields:
            kue.KueJob.read_ahead(job_id.decode(), fields[0])
        return queue_key, job_id

    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:
        """Take and read a job as RQ does; a hash read ahead ends with it.

        A job taken with its hash is read at once, or not at all (Redis
        lost in between: the worker takes again): that hash must not serve
        a later read of the job.
        """
        try:
            return super().dequeue_any(*args, **kwargs)
        finally:
            kue.KueJob.forget_read_ahead()

    @classmethod
    def lpop(cls, queue_keys: Any, timeout: int | None,
             connection: redis.Redis | None = None) -> Any:
        """Wait for a job id as RQ does (Redis before 6.2), noting the wait."""
        with waiting():
            return super().lpop(queue_keys, timeout, connection)


@contextmanager
def waiting() -> Iterator[None]:
    """Note that the worker waits for a job while inside."""
    global waiting_for_a_job
    waiting_for_a_job = True
    try:
        yield
    finally:
        waiting_for_a_job = False


class KueRules:
    """What every worker here checks around each job (a mixin).

    JOB_FUNCTIONS holds the dotted paths of the functions it may run.
    """

    job_functions: frozenset[str] = frozenset()
    queue_class = KueQueue
    job_class = kue.KueJob
    wait_slice = WAIT_SLICE
    # The state Redis has for the worker (see set_state).
    saved_state: str | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Make the worker, with a heartbeat every few seconds.

        RQ's default (a 405 s wait for a job between two heartbeats) lets a
        dead worker look alive for 7 minutes.
        """
        kwargs.setdefault("worker_ttl", WORKER_TTL)
        super().__init__(*args, **kwargs)

    def heartbeat(self, timeout: int | None = None,
                  pipeline: Any = None) -> None:
        """Send RQ's heartbeat, at most once a second unless it says more.

        One that asks for a longer TIMEOUT than the last, or that goes in a
        PIPELINE with other commands, is always sent.
        """
        last = getattr(self, "last_heartbeat", None)
        if (pipeline is None and last is not None
                and (timeout or 0) <= self.worker_ttl + 60
                and (now() - last).total_seconds() < HEARTBEAT_EVERY):
            return
        super().heartbeat(timeout, pipeline)

    def set_state(self, state: str, pipeline: Any = None) -> None:
        """Record the worker's state; "idle" is written once it waits.

        RQ writes "idle" after every job, on a round trip of its own, and
        "busy" as the next one starts: for a worker that was idle for an
        instant. Here "idle" waits until the worker finds no job
        (save_state); a state Redis has already is not written again.
        """
        if pipeline is None and state in (WorkerStatus.IDLE,
                                          self.saved_state):
            self._state = state
            return
        super().set_state(state, pipeline)
        self.saved_state = state

    def save_state(self) -> None:
        """Write the worker's state, unless Redis has it already."""
        if self._state != self.saved_state:
            super().set_state(self._state)
            self.saved_state = self._state

    def check_for_suspension(self, burst: bool) -> None:
        """Check RQ's suspension flag once a second, not before every job."""
        checked = getattr(self, "suspension_checked", float("-inf"))
        if time.monotonic() - checked >= HEARTBEAT_EVERY:
            self.suspension_checked = time.monotonic()
            super().check_for_suspension(burst)

    def prepare_execution(self, job: Job) -> Execution:
        """Begin JOB's execution record; it is written with the job's start.

        RQ writes the record and the busy state, then the job's start
        (prepare_job_execution), in two transactions one right after the
        other: here both go in one, a round trip less per job.
        """
        self.start_transaction = self.connection.pipeline()
        execution = Execution.create(job, self.get_heartbeat_ttl(job),
                                     pipeline=self.start_transaction,
                                     worker_name=self.name)
        self.executions[execution.id] = execution
        self.set_state(WorkerStatus.BUSY, pipeline=self.start_transaction)
        return execution

    def prepare_job_execution(self, job: Job,
                              remove_from_intermediate_queue: bool = False
                              ) -> None:
        """Write JOB's start as RQ does, with its execution record."""
        with self.start_transaction as pipeline:
            heartbeat_ttl = self.get_heartbeat_ttl(job)
            self.heartbeat(heartbeat_ttl, pipeline=pipeline)
            job.heartbeat(now(), heartbeat_ttl, pipeline=pipeline)
            job.prepare_for_execution(self.name, pipeline=pipeline)
            pipeline.persist(job.key)
            if remove_from_intermediate_queue:
                queue = Queue(job.origin, connection=self.connection)
                pipeline.lrem(queue.intermediate_queue_key, 1, job.id)
            pipeline.execute()

    def handle_execution_ended(self, job: Job, queue: Queue,
                               heartbeat_ttl: int) -> None:
        """Note the job's end; its save that follows writes it to Redis.

        RQ also writes the job's heartbeat here, on its own round trip,
        just before it saves the whole job (that field included) anyway.
        """
        job.ended_at = job.last_heartbeat = now()

    def subscribe(self) -> None:
        """Listen for RQ's commands as RQ does, waking every wait slice.

        RQ's listening thread waits up to a minute for a message, and sees
        that it was told to stop only after its wait.
        """
        self.log.info("Worker %s: subscribing to channel %s", self.name,
                      self.pubsub_channel_name)
        self.pubsub = self.connection.pubsub()
        self.pubsub.subscribe(
            **{self.pubsub_channel_name: self.handle_payload})
        self.pubsub_thread = self.pubsub.run_in_thread(
            sleep_time=self.wait_slice, daemon=True,
            exception_handler=self._pubsub_exception_handler)

    def unsubscribe(self) -> None:
        """Stop the listening thread; it closes its connection as it ends.

        RQ sends UNSUBSCRIBE on that connection from this thread, then
        tells the listening thread to stop: one that read the reply in
        between waits again, and RQ gives up joining it after a second.
        Sent after the stop, UNSUBSCRIBE would race the listening thread
        closing the connection. Here a message of no command, sent on this
        worker's own connection, wakes the thread; closing its connection
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

    def validate_queues(self) -> None:
        """Accept any RQ queue: KueQueue only changes how jobs are read."""
        for queue in self.queues:
            if not isinstance(queue, Queue):
                raise TypeError(f"{queue!r} is not an RQ queue")

    def stop_wanted(self) -> bool:
        """Tell whether the worker was asked to stop."""
        return self._stop_requested

    def between_waits(self) -> None:
        """Do what must be done between two waits for a job: nothing here."""

    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None
                                     ) -> Any:
        """Wait for a job one slice at a time; None (stop) once stopping.

        Each slice is wait_slice seconds. A job that is in the queue is
        taken at once; only without one does the worker say it is idle,
        and wait. Unreadable jobs are failed on the way. In RQ's burst mode
        (TIMEOUT None) the worker takes a job if there is one, and never
        waits.
        """
        wait = None if timeout is None else self.wait_slice
        while not self.stop_wanted():
            self.between_waits()
            try:
                result = super().dequeue_job_and_maintain_ttl(None)
                if result is None and wait is not None:
                    self.save_state()
                    result = super().dequeue_job_and_maintain_ttl(wait, wait)
            except UnreadableJob as error:
                self.drop_unreadable(error)
                continue
            if result is not None or wait is None:
                return result
        return None

    def handle_job_failure(self, job: Job, queue: Queue, *args: Any,
                           **kwargs: Any) -> None:
        """Fail JOB as RQ does; end the worker if Redis lost the failure.

        RQ logs a failure that it could not save (Redis went away just
        then) and goes on: the job stayed started, in the registry of a
        live worker, and nothing would ever end it. Its failed event may
        be lost too. Ending the worker lets recovery run the job again.
        """
        super().handle_job_failure(job, queue, *args, **kwargs)
        saved = self.connection.hget(job.key, "status")
        if saved is not None and saved.decode() != job.get_status(
                refresh=False):
            raise redis.ConnectionError(
                f"Redis lost the failure of job {job.id}")

    def cleanup_execution(self, job: Job, pipeline: Any,
                          execution: Any = None) -> None:
        """Clean up as RQ does, in the transaction that ends JOB's try.

        The job's end event goes in that transaction too (see KueJob).
        """
        super().cleanup_execution(job, pipeline, execution)
        if getattr(job, "end_event", None) is not None:
            kue.emit(job, *job.end_event, connection=pipeline)

    def drop_unreadable(self, error: UnreadableJob) -> None:
        """Take an unreadable job out of the way and report it failed."""
        self.log.error("Job %s: %s", error.job_id, error)
        queue = Queue(error.queue_name, connection=self.connection)
        with self.connection.pipeline() as pipeline:
            pipeline.lrem(queue.intermediate_queue_key, 1, error.job_id)
            pipeline.expire(Job.key_for(error.job_id), UNREADABLE_KEPT)
            kue.record_event(pipeline, error.queue_name, error.job_id,
                             "failed", error)
            pipeline.execute()

    def refusal(self, job: Job) -> str | None:
        """Return why JOB must not run here, or None if it may."""
        try:
            function = job.func_name
        except StopRequested:
            raise  # a stop signal, not the job's fault
        except Exception as error:
            return f"Job data could not be read: {kue.error_message(error)}"
        if function not in self.job_functions:
            return (f"Refused to run {function}: this processor runs only "
                    + ", ".join(sorted(self.job_functions)))
        for callback in (job._success_callback_name,
                         job._failure_callback_name,
                         job._stopped_callback_name):
            if callback and callback not in KUE_CALLBACKS:
                return f"Refused to run the callback {callback}"
        return None

    def execute_job(self, job: Job, queue: Queue) -> None:
        """Run JOB as RQ does, unless it is refused: then fail it at once.

        The job's end event is written with its end (see KueJob).
        """
        job.defer_end_event = True
        reason = self.refusal(job)
        if reason is None:
            super().execute_job(job, queue)
            return
        self.log.error("Job %s: %s", job.id, reason)
        job.retries_left = None
        job.ended_at = now()
        kue.emit_end(job, "failed", reason)
        self.handle_job_failure(job, queue, exc_string=reason)
        queue.intermediate_queue.remove(job.id)


def remember_stop(signum: int, frame: Any) -> None:
    """Note a stop signal that came before RQ's handlers were installed."""
    global early_stop_requested
    early_stop_requested = True


class KueWorker(KueRules, SimpleWorker):
    """An RQ worker that runs jobs in its own process and stops promptly."""

    torn_down = False

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Work as RQ does, without the scheduler process."""
        kwargs["with_scheduler"] = False
        return super().work(*args, **kwargs)

    def _install_signal_handlers(self) -> None:
        """Install RQ's handlers, then honour a stop that came before them.

        RQ registers a worker in Redis before it handles signals; a Ctrl-C in
        between would otherwise kill it with a traceback, or be lost.
        """
        super()._install_signal_handlers()
        if early_stop_requested:
            self._stop_requested = True

    def _shutdown(self) -> None:
        """Note the stop; interrupt the worker only if it waits for a job.

        RQ's signal handler raises StopRequested in whatever code the main
        thread runs. In a library, an ``except Exception`` (redis-py has
        dozens, around its metrics) could swallow it, and the worker waited
        for jobs forever; in a destructor, Python printed it as a traceback.
        Here only a wait for a job is interrupted; anywhere else the stop is
        noted, and the worker checks for it before it waits, and between
        two one-second waits (see KueRules.dequeue_job_and_maintain_ttl).
        """
        self._stop_requested = True
        if waiting_for_a_job or self.get_state() == WorkerStatus.BUSY:
            super()._shutdown()  # busy: RQ notes it and lets the job end

    def teardown(self) -> None:
        """Unregister and unsubscribe once, deaf to further stop signals.

        The worker is stopping already; a second Ctrl-C would interrupt RQ's
        cleanup with StopRequested, leaving the worker registered.
        """
        for signal_number in STOP_SIGNALS:
            signal.signal(signal_number, signal.SIG_IGN)
        if not self.torn_down:
            self.torn_down = True
            super().teardown()

    def subscribe(self) -> None:
        """Start RQ's pubsub thread with SIGINT and SIGTERM blocked in it.

        A signal that the kernel hands to that thread does not interrupt the
        main thread, which may be blocked for minutes waiting for a job, so
        the worker would neither stop nor see its stop until a job came (and
        then drop that job in RQ's intermediate queue). New threads inherit
        the signal mask: block the signals while the thread is created.
        """
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            super().subscribe()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)


def run_pool_worker(*args: Any, **kwargs: Any) -> None:
    """Run one worker of the pool; a lost Redis ends it with one log line.

    RQ retries a lost Redis only while a worker waits for a job; lost
    anywhere else (starting, a heartbeat) the error would end the process
    with a traceback. The pool starts a new worker in its place.
    """
    # A worker the pool starts again later inherits the pool's own stop
    # handler, which would stop the pool's copy, not this worker: until
    # RQ's handlers are in place, a stop is only remembered.
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, remember_stop)
    # The pool forked this process with the stop signals blocked (see
    # KuePool.start_worker): one sent meanwhile is delivered now.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        run_worker(*args, **kwargs)
    except redis.RedisError as error:
        logging.getLogger("rq.worker").error(
            "Worker stopped on a Redis error: %s; the pool starts another",
            error)


def upkeep(queue: Queue) -> tuple[Recovery, Promotion]:
    """Return what must run beside QUEUE's workers, every few seconds.

    RQ leaves both to processes of its own (its maintenance, its scheduler):
    the recovery of dead workers' jobs, and the promotion of due jobs.
    """
    return Recovery(queue), Promotion(queue)


def run_due(tasks: list) -> None:
    """Run each of TASKS (see upkeep) whose time has come."""
    for task in tasks:
        try:
            task.run_if_due()
        except redis.RedisError:
            pass  # Redis is away: the workers say so; next time


class KuePool(WorkerPool):
    """RQ's WorkerPool, with quiet, replaceable, promptly stopped workers."""

    def __init__(self, *args: Any, logging_level: str, **kwargs: Any) -> None:
        """Make a pool whose workers, first or replacements, log at LEVEL."""
        super().__init__(*args, **kwargs)
        self.logging_level = logging_level
        self.upkeep = [task for queue in self.queues
                       for task in upkeep(queue)]
        self.recoveries = [task for task in self.upkeep
                           if isinstance(task, Recovery)]

    def start(self, burst: bool = False, logging_level: str = "INFO") -> None:
        """Run the pool as RQ does, ending within a tick of its workers.

        RQ's loop sleeps a second between two checks of its workers, and a
        second again while they stop: Ctrl-C took up to two seconds.
        """
        self._burst = burst
        setup_loghandlers(logging_level, name="rq.worker_pool")
        self.log.info("Starting worker pool %s with pid %d...", self.name,
                      os.getpid())
        self.status = self.Status.STARTED
        self.start_workers(burst=burst, logging_level=logging_level)
        self._install_signal_handlers()
        while self.status != self.Status.STOPPED:
            self.check_workers(respawn=not burst)
            if burst and self.number_of_active_workers == 0:
                break
            self.rest(POOL_CHECK_EVERY)
        self.log.info("Waiting for workers to shutdown...")
        while not self.all_workers_have_stopped():
            time.sleep(POOL_TICK)
        self.log.info("All workers stopped, exiting...")

    def rest(self, seconds: float) -> None:
        """Keep up the upkeep for SECONDS, or less if told to stop meanwhile.

        The upkeep (recovering dead workers' jobs, promoting due ones) runs
        in the pool's own process, which lives on while its workers die and
        come back. The stop comes from a signal handler, which may not wake
        a thread waiting on a lock (see early_stop_requested): the pool
        looks every tick.
        """
        deadline = time.monotonic() + seconds
        while (self.status != self.Status.STOPPED
               and time.monotonic() < deadline):
            run_due(self.upkeep)
            time.sleep(POOL_TICK)

    def get_worker_process(self, name: str, burst: bool, _sleep: float = 0,
                           logging_level: str = "INFO") -> BaseProcess:
        """Return RQ's worker process, running run_pool_worker.

        RQ starts replacement workers at INFO: they get the pool's level.
        """
        process = super().get_worker_process(name, burst, _sleep,
                                             self.logging_level)
        return ForkProcess(target=run_pool_worker, args=process._args,
                           kwargs=process._kwargs, name=process.name)

    def _install_signal_handlers(self) -> None:
        """Install RQ's handlers, then stop at once if asked to already."""
        super()._install_signal_handlers()
        if early_stop_requested:
            self.request_stop()

    def start_worker(self, *args: Any, **kwargs: Any) -> None:
        """Fork a worker with the stop signals blocked until it runs.

        A stop signal that reached the child as fork() returned was dropped
        by Python's after-fork reset, and the worker never stopped. And a
        stop that came after RQ decided to replace a dead worker, but
        before the fork, stopped the others and then started one more:
        with the signals blocked, the pool looks again.
        """
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        try:
            if self.status != self.Status.STOPPED:
                super().start_worker(*args, **kwargs)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        """Forget a worker process that ended, and recover its job at once.

        A job that killed its worker (os._exit, a signal, a crash) was
        started by that worker: it fails now, with a failed event.
        """
        super().handle_dead_worker(worker_data)
        for recovery in self.recoveries:
            recovery.known_dead.add(worker_data.name)
            try:
                recovery.run()
            except redis.RedisError:
                pass  # Redis is away: the next check recovers it


class OneLineFormatter(logging.Formatter):
    """Format a log record as one line: RQ puts tracebacks in messages."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the first line of the record's message, marked as RQ's."""
        return "rq: " + record.getMessage().split("\n", 1)[0]


def is_job_failure(record: logging.LogRecord) -> bool:
    """Tell whether RECORD is RQ logging a job's exception (it has job_id)."""
    return hasattr(record, "job_id")


def setup_logging() -> str:
    """Send RQ's log records to stderr, one line each; return the level.

    The level is $RQ_LOGGING_LEVEL, or ERROR without the jobs' failures. RQ
    adds a handler of its own, writing to stdout, only when it finds none;
    this one keeps stdout for the task's lines.
    """
    level = os.environ.get("RQ_LOGGING_LEVEL", "ERROR").upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"RQ_LOGGING_LEVEL={level} is not a logging level")
    logger = logging.getLogger("rq")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter())
        if logging.getLevelName(level) >= logging.ERROR:
            handler.addFilter(lambda record: not is_job_failure(record))
        logger.addHandler(handler)
    # RQ sets some of its loggers to INFO when imported: set every one.
    for name in list(logging.root.manager.loggerDict):
        if name == "rq" or name.startswith("rq."):
            logging.getLogger(name).setLevel(level)
    return level


def process(queue_name: str, concurrency: int, function: Callable,
            connection: redis.Redis) -> None:
    """Run CONCURRENCY workers on QUEUE_NAME until Ctrl-C or SIGTERM.

    Kue's queue.process(type, n, fn): the workers run FUNCTION, and only
    it, with each job's data. Either signal asks for a warm shutdown: a job
    that is running finishes first. CONNECTION must not decode responses.
    """
    level = setup_logging()
    # Until RQ installs its own handlers, in the pool and in each worker it
    # forks, a stop is only remembered; each acts on it once it can.
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, remember_stop)
    worker_class = type("KueWorker", (KueWorker,), {
        "job_functions": frozenset({kue.function_path(function)})})
    pool = KuePool([queue_name], connection=connection,
                   num_workers=concurrency, worker_class=worker_class,
                   queue_class=KueQueue, job_class=kue.KueJob,
                   serializer=JSONSerializer,
                   logging_level=level)
    pool.start(logging_level=level)


class ThreadWorker(KueRules, SimpleWorker):
    """An RQ worker that runs in a thread of a web server.

    Signal handlers can only be installed by the main thread, which belongs
    to the server, so job timeouts use a timer instead of SIGALRM, and the
    worker stops when its STOPPING event is set, within a quarter second.
    """

    death_penalty_class = TimerDeathPenalty
    wait_slice = SERVER_WAIT_SLICE

    def __init__(self, *args: Any, stopping: threading.Event,
                 job_functions: frozenset[str], upkeep: list,
                 **kwargs: Any) -> None:
        """Make a worker of JOB_FUNCTIONS that ends once STOPPING is set.

        It runs the UPKEEP tasks between two waits for a job.
        """
        super().__init__(*args, **kwargs)
        self.stopping = stopping
        self.job_functions = job_functions
        self.upkeep = upkeep

    def _install_signal_handlers(self) -> None:
        """Leave signals to the server."""

    def stop_wanted(self) -> bool:
        """Tell whether the server closed the worker."""
        return self.stopping.is_set()

    def between_waits(self) -> None:
        """Run the upkeep tasks that are due."""
        run_due(self.upkeep)


class BackgroundWorker:
    """A worker on one queue, run in a daemon thread once it is started."""

    def __init__(self, queue: Queue, function: Callable) -> None:
        """Prepare a worker running FUNCTION for the jobs of QUEUE.

        QUEUE's connection must not decode responses.
        """
        self.queue = queue
        self.job_functions = frozenset({kue.function_path(function)})
        self.thread: threading.Thread | None = None
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def start(self) -> None:
        """Start processing the queue in the background, once."""
        with self.lock:
            if self.thread is None:
                self.thread = threading.Thread(target=self.work, daemon=True)
                self.thread.start()

    def work(self) -> None:
        """Run a worker until close(); a lost Redis only pauses it.

        RQ's worker ends on some Redis errors (and raises on others): each
        time, the next worker takes over once Redis answers again, and the
        dead one's jobs are recovered.
        """
        level = setup_logging()
        recovery, promotion = upkeep(self.queue)
        while not self.stopping.is_set():
            worker = None
            try:
                # Built inside the try: RQ's worker talks to Redis at once.
                worker = ThreadWorker(
                    [self.queue], connection=self.queue.connection,
                    serializer=JSONSerializer, stopping=self.stopping,
                    job_functions=self.job_functions,
                    upkeep=[recovery, promotion])
                worker.work(logging_level=level)
            except redis.RedisError as error:
                logging.getLogger("rq.worker").error(
                    "Worker stopped on a Redis error: %s; starting another",
                    error)
            if worker is not None:
                recovery.known_dead.add(worker.name)
            self.stopping.wait(1)

    def close(self) -> None:
        """Stop the worker, waiting a little for its thread to end."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
