"""Kue's ``queue.process``: RQ workers run by a pool, or by a web server.

The pool's loop also runs RQ's scheduler step and the recovery of dead
workers' jobs; RQ's log goes to stderr, one line a record.
"""
import ctypes
import functools
import logging
import multiprocessing
import os
import signal
import sys
import threading
from collections.abc import Callable
from multiprocessing.process import BaseProcess
from typing import Any

import redis
from rq import Queue
from rq.connections import parse_connection
from rq.serializers import JSONSerializer
from rq.worker_pool import ForkProcess, WorkerData, WorkerPool, run_worker

from queuing import cli, kue, signals
from queuing.connection import warn_if_evicting
from queuing.recovery import Recovery
from queuing.scheduling import KueQueue, Promotion
from queuing.worker import KueWorker, ThreadWorker, run_due

QUITTING = "found an unhandled exception"  # RQ's words
# The same error this many times in a row ends the processor (a Redis user
# without LMOVE, say), which would otherwise restart workers for ever.
QUITS_IN_A_ROW = 3
PR_SET_PDEATHSIG = 1  # Linux's prctl option
EXIT_WAIT = 2  # seconds a server's exit waits for its worker to unregister


class QuitNotice(logging.Handler):
    """In a pool's worker: tell the pool the error the worker quits on."""

    def __init__(self, causes: Any) -> None:
        """Put each cause on CAUSES, the pool's queue."""
        super().__init__(logging.ERROR)
        self.causes = causes

    def emit(self, record: logging.LogRecord) -> None:
        """Hand over the error of RQ's quitting line, if this is one."""
        if QUITTING in record.getMessage() and record.exc_info:
            self.causes.put(kue.error_message(record.exc_info[1]))


class PipeWatch:
    """A worker's stdout: a closed pipe (``| head -1``) stops the processor.

    The job ends as it would have; the rest goes to /dev/null.
    """

    def __init__(self, stream: Any, pool_pid: int) -> None:
        """Watch STREAM, the stdout of a worker the pool POOL_PID forked."""
        self.stream = stream
        self.pool_pid = pool_pid

    def write(self, text: str) -> int:
        """Write TEXT; a closed pipe only stops the processor."""
        try:
            return self.stream.write(text)
        except BrokenPipeError:
            self.reader_gone()
            return len(text)

    def flush(self) -> None:
        """Flush; a closed pipe only stops the processor."""
        try:
            self.stream.flush()
        except BrokenPipeError:
            self.reader_gone()

    def reader_gone(self) -> None:
        """Send what is left to /dev/null, and stop the pool (warm)."""
        os.dup2(os.open(os.devnull, os.O_WRONLY), self.stream.fileno())
        if os.getppid() == self.pool_pid:  # not whoever adopted an orphan
            os.kill(self.pool_pid, signal.SIGTERM)

    def __getattr__(self, name: str) -> Any:
        """Answer everything else as the stream does."""
        return getattr(self.stream, name)


def stop_with(pool_pid: int) -> None:
    """Have a SIGTERM (a warm stop) sent to this worker when its pool dies.

    A pool killed with kill -9 would leave its workers running, unseen.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != pool_pid:  # it died before that
        os.kill(os.getpid(), signal.SIGTERM)


def run_pool_worker(*args: Any, causes: Any, pool_pid: int,
                    **kwargs: Any) -> None:
    """Run one worker of the pool; a lost Redis ends it on one log line."""
    logging.getLogger("rq.worker").addHandler(QuitNotice(causes))
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the pool's, inherited
    stop_with(pool_pid)
    # Forked with the stop signals blocked: one sent meanwhile is delivered
    # now, and remembered until RQ's handlers are in place.
    signals.remember_stops()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals.STOP_SIGNALS)
    sys.stdout = PipeWatch(sys.stdout, pool_pid)
    try:
        run_worker(*args, **kwargs)
    except redis.RedisError as error:
        logging.getLogger("rq.worker").error(
            "Worker stopped on a Redis error: %s; the pool starts another",
            error)


class PoolEnded(Exception):
    """A stopping pool's last worker ended: RQ's loop may end now."""


class KuePool(WorkerPool):
    """RQ's WorkerPool, with quiet, replaceable workers and the upkeep."""

    fatal: str | None = None  # the error the workers quit on in a row

    @functools.cached_property
    def recoveries(self) -> list[Recovery]:
        """Return the recovery of each of the pool's queues."""
        return [Recovery(queue) for queue in self.queues]

    @functools.cached_property
    def causes(self) -> Any:
        """Return the queue on which workers say what they quit on."""
        return multiprocessing.get_context("fork").SimpleQueue()

    @functools.cached_property
    def quits(self) -> list[str]:
        """Return the errors the last workers quit on, none between them."""
        return []

    @functools.cached_property
    def promotions(self) -> list[Promotion]:
        """Return the promotion (RQ's scheduler) of each of its queues."""
        return [Promotion(queue, log_level()) for queue in self.queues]

    def check_workers(self, respawn: bool = True) -> None:
        """Check the workers as RQ does, run the upkeep; end if they ended."""
        if signals.early_stop_requested and (
                self.status != self.Status.STOPPED):
            self.request_stop()
        super().check_workers(respawn)
        run_due([*self.recoveries, *self.promotions])
        self.end_if_stopped()

    def end_if_stopped(self) -> None:
        """Raise PoolEnded if the pool stops with no worker left."""
        if self.status == self.Status.STOPPED and (
                self.all_workers_have_stopped()):
            raise PoolEnded

    def worker_ended(self, signum: int, frame: Any) -> None:
        """On SIGCHLD: end RQ's loop now if it sleeps with no worker left."""
        if frame is not None and frame.f_code is WorkerPool.start.__code__:
            self.end_if_stopped()

    def get_worker_process(self, name: str, burst: bool, _sleep: float = 0,
                           logging_level: str = "INFO") -> BaseProcess:
        """Return RQ's worker process, running run_pool_worker at our level."""
        process = super().get_worker_process(name, burst, _sleep,
                                             log_level())
        return ForkProcess(target=run_pool_worker, args=process._args,
                           kwargs={**process._kwargs, "causes": self.causes,
                                   "pool_pid": os.getpid()},
                           name=process.name)

    def start_worker(self, *args: Any, **kwargs: Any) -> None:
        """Fork a worker with the stop signals blocked until it runs.

        Python's after-fork reset would drop a signal sent during fork().
        """
        with signals.stops_blocked():
            if self.status != self.Status.STOPPED:
                super().start_worker(*args, **kwargs)

    def handle_dead_worker(self, worker_data: WorkerData) -> None:
        """Forget a worker process that ended, and recover its job at once."""
        super().handle_dead_worker(worker_data)
        if self.causes.empty():
            self.quits.clear()  # it did not quit on an error
        else:
            self.quits.append(self.causes.get())
        if len(self.quits) >= QUITS_IN_A_ROW and len(
                set(self.quits[-QUITS_IN_A_ROW:])) == 1:
            self.fatal = self.quits[-1]
            self.request_stop()
        for recovery in self.recoveries:
            recovery.known_dead.add(worker_data.name)
            try:
                recovery.run()
            except redis.RedisError:
                pass  # Redis is away: the next check recovers it

    def close(self) -> None:
        """Give back RQ's scheduler locks that the pool holds."""
        for promotion in self.promotions:
            promotion.close()


class OneLineFormatter(logging.Formatter):
    """Format a log record as one line: RQ puts tracebacks in messages."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record's first line, marked as RQ's, and its error."""
        line = "rq: " + record.getMessage().split("\n", 1)[0]
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            line += f" ({type(error).__name__}: {kue.error_message(error)})"
        return line


def log_level() -> str:
    """Return $RQ_LOGGING_LEVEL, ERROR by default; ValueError if no level."""
    level = os.environ.get("RQ_LOGGING_LEVEL", "ERROR").upper()
    if level not in logging.getLevelNamesMapping():
        raise ValueError(f"RQ_LOGGING_LEVEL={level} is not a logging level")
    return level


def setup_logging() -> str:
    """Send RQ's log to stderr, one line a record; return the level."""
    level = log_level()
    logger = logging.getLogger("rq")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(OneLineFormatter())
        if logging.getLevelName(level) >= logging.ERROR:
            # Not the jobs' own failures: RQ logs those with their job_id.
            handler.addFilter(lambda record: not hasattr(record, "job_id"))
        logger.addHandler(handler)
    # RQ sets some of its loggers to INFO when imported: set every one.
    for name in list(logging.root.manager.loggerDict):
        if name == "rq" or name.startswith("rq."):
            logging.getLogger(name).setLevel(level)
    return level


def process(queue_name: str, concurrency: int, function: Callable,
            connection: redis.Redis) -> None:
    """Kue's process: CONCURRENCY workers of only FUNCTION, on QUEUE_NAME."""
    level = setup_logging()
    warn_if_evicting(connection)
    signals.remember_stops()
    worker_class = type("KueWorker", (KueWorker,), {
        "job_functions": frozenset({kue.function_path(function)})})
    pool = KuePool([queue_name], connection=connection,
                   num_workers=concurrency, worker_class=worker_class,
                   queue_class=KueQueue, serializer=JSONSerializer)
    signal.signal(signal.SIGCHLD, pool.worker_ended)
    try:
        pool.start(logging_level=level)
    except PoolEnded:
        pass  # as RQ's loop would, a second later
    finally:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        pool.close()
    if pool.fatal is not None:
        sys.exit(f"Error: the workers stopped {len(pool.quits)} times in a "
                 f"row on: {pool.fatal}")


class BackgroundWorker:
    """A worker on one queue, run in a daemon thread once it is started."""

    def __init__(self, queue: Queue, function: Callable) -> None:
        """Prepare a worker running FUNCTION for QUEUE (not decoding)."""
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
                cli.on_exit(self.close_at_exit)

    def own_queue(self) -> KueQueue:
        """Return the queue on a connection of its own (RQ sets timeouts)."""
        connection_class, pool_class, pool_kwargs = parse_connection(
            self.queue.connection)
        return KueQueue(self.queue.name, serializer=JSONSerializer,
                        connection=connection_class(
                            connection_pool=redis.ConnectionPool(
                                connection_class=pool_class, **pool_kwargs)))

    def work(self) -> None:
        """Run a worker until close(); after a lost Redis, start another."""
        level = setup_logging()
        recovery = Recovery(self.own_queue())
        promotion = Promotion(self.own_queue(), level)
        while not self.stopping.is_set():
            worker = None
            try:
                # Built inside the try: RQ's worker talks to Redis at once.
                queue = self.own_queue()
                worker = ThreadWorker([queue], connection=queue.connection,
                                      serializer=JSONSerializer)
                worker.stopping = self.stopping
                worker.job_functions = self.job_functions
                worker.upkeep = [recovery, promotion]
                worker.work(logging_level=level)
            except redis.RedisError as error:
                logging.getLogger("rq.worker").error(
                    "Worker stopped on a Redis error: %s; starting another",
                    error)
            if worker is not None:
                recovery.known_dead.add(worker.name)
            self.stopping.wait(1)
        promotion.close()

    def close_at_exit(self) -> None:
        """Close as the server exits, deaf to more stops: RQ forgets it."""
        signals.ignore_stops()
        self.close(EXIT_WAIT)

    def close(self, timeout: float = 10) -> None:
        """Stop the worker, waiting up to TIMEOUT s for its thread to end."""
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout)
