"""Where and when a job goes into its queue: Kue's priorities, RQ's scheduler.

``Promotion`` runs RQ's scheduler step in the workers' loop, not in the
process RQ forks for it (which could miss a Ctrl-C). Priority has no RQ
word: ``KueQueue`` places a job behind those of its priority or higher.
"""
import time
from datetime import datetime
from typing import Any

import redis
from rq import Queue
from rq.job import Job
from rq.scheduler import RQScheduler
from rq.serializers import JSONSerializer

from queuing import signals

PRIORITIES_KEY = "kue:priorities:{queue_name}"
INTERVAL = 0.25  # seconds between two promotions
SWEEP_INTERVAL = 60.0  # and between two sweeps of the priorities

# KEYS: the queue, its priorities. ARGV: a job id. Behind the last job of
# its priority or higher (a lower number); at the back if none has one.
PLACE_SCRIPT = """
if redis.call('HLEN', KEYS[2]) == 0 then
    return redis.call('RPUSH', KEYS[1], ARGV[1])
end
local mine = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
local waiting = redis.call('LRANGE', KEYS[1], 0, -1)
for i = #waiting, 1, -1 do
    local other = redis.call('HGET', KEYS[2], waiting[i]) or '0'
    if tonumber(other) <= mine then
        return redis.call('LINSERT', KEYS[1], 'AFTER', waiting[i], ARGV[1])
    end
end
return redis.call('LPUSH', KEYS[1], ARGV[1])
"""


def priorities_key(queue_name: str) -> str:
    """Return kue:priorities:QUEUE_NAME, a HASH: job id -> Kue's priority."""
    return PRIORITIES_KEY.format(queue_name=queue_name)


class KueQueue(Queue):
    """RQ's queue, placing jobs by Kue's priority, scheduling to the ms."""

    def push_job_id(self, job_id: str, pipeline: Any = None,
                    at_front: bool = False) -> None:
        """Put JOB_ID into the queue at its priority's place, or AT_FRONT."""
        if at_front:
            super().push_job_id(job_id, pipeline, at_front)
            return
        # EVAL: in a pipeline, redis-py's Script costs a round trip more.
        (pipeline if pipeline is not None else self.connection).eval(
            PLACE_SCRIPT, 2, self.key, priorities_key(self.name), job_id)

    @classmethod
    def dequeue_any(cls, *args: Any, **kwargs: Any) -> Any:
        """Take a job as RQ does, noting the wait (see KueWorker._shutdown)."""
        with signals.waiting():
            return super().dequeue_any(*args, **kwargs)

    def schedule_job(self, job: Job, datetime: datetime, pipeline: Any = None,
                     unique: bool = False) -> Job:
        """Schedule JOB due at DATETIME to the ms (RQ rounds down to the s)."""
        job = super().schedule_job(job, datetime, pipeline, unique)
        (pipeline if pipeline is not None else self.connection).zadd(
            self.scheduled_job_registry.key, {job.id: datetime.timestamp()})
        return job


def set_priority(queue: Queue, job_id: str, priority: int,
                 pipeline: Any = None) -> None:
    """Note Kue's PRIORITY of job JOB_ID (0, normal, is not kept)."""
    if priority:
        (pipeline or queue.connection).hset(
            priorities_key(queue.name), job_id, priority)


def forget(job: Job) -> None:
    """Drop the priority of JOB, which has ended."""
    job.connection.hdel(priorities_key(job.origin), job.id)


def sweep(queue: Queue) -> None:
    """Drop the priorities of QUEUE's jobs that no longer exist."""
    connection = queue.connection
    key = priorities_key(queue.name)
    for job_id in connection.hkeys(key):
        job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
        if not Job.exists(job_id, connection=connection):
            connection.hdel(key, job_id)


class Promotion:
    """Run RQ's scheduler step for one queue (one process holds its lock)."""

    def __init__(self, queue: Queue, logging_level: str = "ERROR") -> None:
        """Promote QUEUE's due jobs (its connection must not decode)."""
        self.queue = queue
        self.scheduler = RQScheduler(
            [queue], connection=queue.connection, serializer=JSONSerializer,
            logging_level=logging_level)
        self.last_run = float("-inf")
        self.last_sweep = time.monotonic()

    def run_if_due(self) -> None:
        """Promote if INTERVAL seconds passed (Redis errors: the caller)."""
        moment = time.monotonic()
        if moment - self.last_run < INTERVAL:
            return
        self.last_run = moment
        if self.scheduler.acquire_locks():
            self.scheduler.enqueue_scheduled_jobs()
        if moment - self.last_sweep >= SWEEP_INTERVAL:
            self.last_sweep = moment
            sweep(self.queue)

    def close(self) -> None:
        """Give RQ's scheduler lock back, for another process to take."""
        try:
            self.scheduler.release_locks()
        except redis.RedisError:
            pass  # it expires within a minute
