#!/usr/bin/env python3
"""Task 7: process the jobs of a queue.

The Node original, 6-job_processor.js, called
queue.process('push_notification_code', fn), and fn passed the job's data to
sendNotification, then called done(). Here RQ workers listen on the queue and
call process_notification with each job's data: returning is Kue's done(),
raising an exception is done(error).

work() runs the workers (RQ's WorkerPool, Kue's concurrency argument) until
Ctrl-C or SIGTERM. Either one asks for a warm shutdown: a job that is running
finishes first. RQ's own log lines go to stderr, one line each; by default
only errors show, not the jobs' own failures (their creator reports those).
RQ_LOGGING_LEVEL=INFO ./6-job_processor.py shows everything.
"""
import logging
import os
import signal
import sys
from multiprocessing.process import BaseProcess
from typing import Any

import redis
from rq import Worker
from rq.job import Job
from rq.serializers import JSONSerializer
from rq.worker_pool import ForkProcess, WorkerPool, run_worker

redis_client = __import__("0-redis_client")
kue = __import__("6-job_creator")

QUEUE_NAME = "push_notification_code"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}
# Set by a stop signal that comes before RQ has installed its handlers. A
# plain flag, not a threading.Event: a second signal could interrupt the
# first handler inside Event.set and wait forever on the Event's lock.
early_stop_requested = False


def send_notification(phone_number: str, message: str) -> None:
    """Print the notification that would be sent to PHONE_NUMBER."""
    # flush: RQ runs the job in a forked process that ends with os._exit,
    # which drops whatever stdout still buffers.
    print(f"Sending notification to {phone_number}, with message: {message}",
          flush=True)


def process_notification(data: dict) -> None:
    """Process one job of the queue: RQ calls this with the job's data."""
    send_notification(data["phoneNumber"], data["message"])


def remember_stop(signum: int, frame: Any) -> None:
    """Note a stop signal that came before RQ's handlers were installed."""
    global early_stop_requested
    early_stop_requested = True


class KueWorker(Worker):
    """An RQ worker that stops promptly and reports killed work horses."""

    def work(self, *args: Any, **kwargs: Any) -> bool:
        """Work as RQ does, without the scheduler process.

        These jobs are never scheduled for later, and a scheduler forked
        while the worker starts could miss the SIGTERM that stops it (it
        inherits remember_stop), leaving the worker waiting for it forever.
        """
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

    def handle_work_horse_killed(self, job: Job, retpid: int, ret_val: int,
                                 rusage: Any) -> None:
        """Record the failed event, then let RQ fail the job as usual.

        RQ fails such a job without calling its failure callback, so without
        this the creator would never hear that the job ended.
        """
        kue.emit(job, "failed", "Work-horse terminated unexpectedly")
        super().handle_work_horse_killed(job, retpid, ret_val, rusage)


def run_pool_worker(*args: Any, **kwargs: Any) -> None:
    """Run one worker of the pool; a lost Redis ends it with one log line.

    RQ retries a lost Redis only while a worker waits for a job; lost
    anywhere else (starting, a heartbeat) the error would end the process
    with a traceback. The pool starts a new worker in its place.
    """
    try:
        run_worker(*args, **kwargs)
    except redis.RedisError as error:
        logging.getLogger("rq.worker").error(
            "Worker stopped on a Redis error: %s; the pool starts another",
            error)


class KuePool(WorkerPool):
    """RQ's WorkerPool, with quiet, replaceable, promptly stopped workers."""

    def __init__(self, *args: Any, logging_level: str, **kwargs: Any) -> None:
        """Make a pool whose workers, first or replacements, log at LEVEL."""
        super().__init__(*args, **kwargs)
        self.logging_level = logging_level

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
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter())
    if logging.getLevelName(level) >= logging.ERROR:
        handler.addFilter(lambda record: not is_job_failure(record))
    logging.getLogger("rq").addHandler(handler)
    # RQ sets some of its loggers to INFO when imported: set every one.
    for name in list(logging.root.manager.loggerDict):
        if name == "rq" or name.startswith("rq."):
            logging.getLogger(name).setLevel(level)
    return level


def work(queue_name: str, workers: int, connection: redis.Redis) -> None:
    """Run WORKERS RQ workers on QUEUE_NAME until Ctrl-C or SIGTERM."""
    level = setup_logging()
    # Until RQ installs its own handlers, in the pool and in each worker it
    # forks, a stop is only remembered; each acts on it once it can.
    for signal_number in STOP_SIGNALS:
        signal.signal(signal_number, remember_stop)
    pool = KuePool([queue_name], connection=connection,
                   num_workers=workers, worker_class=KueWorker,
                   serializer=JSONSerializer, logging_level=level)
    pool.start(logging_level=level)


def main() -> None:
    """Process push_notification_code jobs, one at a time, until stopped."""
    connection = redis_client.connect(decode_responses=False, announce=False)
    work(QUEUE_NAME, 1, connection)


if __name__ == "__main__":
    redis_client.run(main)
