"""When a job goes into its queue: Kue's priorities and delays, on RQ.

Kue kept a job type's waiting jobs in a sorted set, ordered by priority
(low 10, normal 0, medium -5, high -10, critical -15) and then by id, and
moved its delayed jobs into that set once they were due, looking every
second. RQ's queue is a list that its workers pop from the front, and its
scheduled jobs wait in a ScheduledJobRegistry, to the second, until an RQ
scheduler process moves them. This module does what Kue did, on RQ's keys:

- a job that is not of normal priority has its priority in the hash
  ``kue:priorities:QUEUE`` until it ends; one Lua script puts a job into
  the queue's list behind every job of its priority or a higher one, and
  ahead of the lower ones, in one atomic step. While no such job exists, an
  ordinary job stays where RQ pushed it: at the back, as without this;
- a delayed job, and a retry after a backoff, waits in RQ's
  ScheduledJobRegistry; its due time, to the millisecond, is the field
  ``kue_due`` of its hash. ``Promotion`` moves the jobs that are due into
  their queue, each at its priority's place, in one Lua script. The
  processors run it from their pool's loop, the web server's worker from
  its own, about every second, as Kue's promoter did, and without RQ's
  scheduler process, whose fork could hang a processor's shutdown.
"""
import time
from datetime import datetime, timezone

from rq import Queue
from rq.job import Job
from rq.utils import now, utcformat

PRIORITIES_KEY = "kue:priorities:{queue_name}"
DUE_FIELD = "kue_due"
# Seconds between two promotions of a queue, and between two sweeps of the
# priorities of jobs that ended without saying so (a killed worker's).
INTERVAL = 0.25
SWEEP_INTERVAL = 60.0
# Jobs moved at most by one promotion; the next one takes the rest.
BATCH = 1000

# place(queue, priorities, id, pushed): puts job ID into the list QUEUE
# behind the last job whose priority is its own or higher (a lower Kue
# number), or at the front. PUSHED: RQ has just pushed it at the back.
PLACE = """
local function place(queue, priorities, id, pushed)
    if redis.call('HLEN', priorities) == 0 then
        if not pushed then redis.call('RPUSH', queue, id) end
        return
    end
    if pushed then redis.call('LREM', queue, -1, id) end
    local mine = tonumber(redis.call('HGET', priorities, id) or '0')
    local waiting = redis.call('LRANGE', queue, 0, -1)
    for i = #waiting, 1, -1 do
        local other = redis.call('HGET', priorities, waiting[i]) or '0'
        if tonumber(other) <= mine then
            redis.call('LINSERT', queue, 'AFTER', waiting[i], id)
            return
        end
    end
    redis.call('LPUSH', queue, id)
end
"""
# KEYS: the queue, its priorities. ARGV: the job id RQ has just pushed.
PLACE_SCRIPT = PLACE + "place(KEYS[1], KEYS[2], ARGV[1], true)\n"
# KEYS: the scheduled registry, the queue, its priorities. ARGV: now in ms,
# now in s, the prefix of job keys, now as RQ writes enqueued_at, a batch.
# Returns the ids of the jobs it moved into the queue.
PROMOTE_SCRIPT = PLACE + """
local now = tonumber(ARGV[1])
local moved = {}
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[2],
                       'LIMIT', 0, tonumber(ARGV[5]))
for _, id in ipairs(ids) do
    local job = ARGV[3] .. id
    local due = tonumber(redis.call('HGET', job, 'kue_due') or '0')
    if due <= now then
        redis.call('ZREM', KEYS[1], id)
        if redis.call('EXISTS', job) == 1 then
            redis.call('HSET', job, 'status', 'queued', 'enqueued_at', ARGV[4])
            redis.call('HDEL', job, 'kue_due')
            place(KEYS[2], KEYS[3], id, false)
            table.insert(moved, id)
        end
    end
end
return moved
"""


def priorities_key(queue_name: str) -> str:
    """Return the key of QUEUE_NAME's priorities.

    kue:priorities:QUEUE_NAME is a HASH: job id -> Kue's priority number,
    for the jobs of that queue that are not of normal priority and have not
    ended yet.
    """
    return PRIORITIES_KEY.format(queue_name=queue_name)


def enqueue(queue: Queue, function: str, data: object, *, priority: int,
            delay: float, **job_options: object) -> Job:
    """Queue RQ's job FUNCTION(DATA) with Kue's PRIORITY, DELAY ms later.

    JOB_OPTIONS go to RQ's enqueue. The job, its priority and its place in
    the queue (or the registry of scheduled jobs) are written in one
    transaction, so a worker never sees it half done.
    """
    with queue.connection.pipeline() as pipeline:
        if delay:
            due = time.time() * 1000 + delay
            job = queue.enqueue_at(
                datetime.fromtimestamp(due / 1000, timezone.utc), function,
                data, pipeline=pipeline, **job_options)
            # RQ scores it to the second, rounded down: a float is exact.
            pipeline.zadd(queue.scheduled_job_registry.key,
                          {job.id: due / 1000})
            pipeline.hset(job.key, DUE_FIELD, repr(due))
        else:
            job = queue.enqueue(function, data, pipeline=pipeline,
                                **job_options)
        if priority:
            pipeline.hset(priorities_key(queue.name), job.id, priority)
        if not delay:
            # EVAL, not redis-py's Script: a pipeline with a Script asks
            # Redis first, on a round trip of its own, whether it has it.
            pipeline.eval(PLACE_SCRIPT, 2, queue.key,
                          priorities_key(queue.name), job.id)
        pipeline.execute()
    return job


def retry_in(job: Job, seconds: float) -> None:
    """Note that JOB, which has just failed, is due again in SECONDS.

    RQ schedules the retry a moment later, to the second only: this is
    the exact time that Promotion goes by.
    """
    due = time.time() * 1000 + seconds * 1000
    job.connection.hset(job.key, DUE_FIELD, repr(due))


def forget(job: Job) -> None:
    """Drop the priority of JOB, which has ended."""
    job.connection.hdel(priorities_key(job.origin), job.id)


def promote(queue: Queue) -> list[str]:
    """Move QUEUE's scheduled jobs that are due into it; return their ids."""
    connection = queue.connection
    script = connection.register_script(PROMOTE_SCRIPT)
    moment = time.time()
    moved = script(
        keys=[queue.scheduled_job_registry.key, queue.key,
              priorities_key(queue.name)],
        args=[repr(moment * 1000), repr(moment),
              Job.redis_job_namespace_prefix, utcformat(now()), BATCH])
    return [job_id.decode() if isinstance(job_id, bytes) else job_id
            for job_id in moved]


def sweep(queue: Queue) -> None:
    """Drop the priorities of QUEUE's jobs that no longer exist.

    A job ends by its callbacks, which drop its priority, unless its
    worker died under it; then its entry would stay for good.
    """
    connection = queue.connection
    key = priorities_key(queue.name)
    for job_id in connection.hkeys(key):
        job_id = job_id.decode() if isinstance(job_id, bytes) else job_id
        if not connection.exists(Job.key_for(job_id)):
            connection.hdel(key, job_id)


class Promotion:
    """Move one queue's due jobs into it, when run often enough.

    The processors' pool and the web server's worker call run_if_due from
    their loops; each call does the work at most every INTERVAL seconds.
    """

    def __init__(self, queue: Queue) -> None:
        """Promote QUEUE's jobs (its connection must not decode)."""
        self.queue = queue
        self.last_run = float("-inf")
        self.last_sweep = time.monotonic()

    def run_if_due(self) -> None:
        """Promote now if INTERVAL seconds passed since the last time.

        A Redis error is left to the caller, which knows how to wait.
        """
        moment = time.monotonic()
        if moment - self.last_run < INTERVAL:
            return
        self.last_run = moment
        promote(self.queue)
        if moment - self.last_sweep >= SWEEP_INTERVAL:
            self.last_sweep = moment
            sweep(self.queue)
