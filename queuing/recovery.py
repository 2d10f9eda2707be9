"""Jobs whose worker died: found within seconds, and each ended once.

RQ notices a dead worker minutes later. ``Recovery`` runs every few
seconds: a job a dead worker started runs again RERUNS times, then fails;
a job taken but never started goes back. Each step first takes the job
out of RQ's lists atomically, so exactly one process ends or requeues it.
"""
import os
import socket
import time

import redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.job_lifecycle import record_job_failure
from rq.serializers import JSONSerializer

from queuing import kue
from queuing.options import FAILED_KEPT

ABANDONED = "Abandoned: its worker stopped twice while it ran"
RERUNS = 1  # the job function must be safe to run twice
RERUNS_META = "kue_reruns"
INTERVAL = 5.0  # seconds between two recoveries
GRACE = 5.0  # seconds before a job taken but not started counts as lost
LOCK_KEY = "kue:recovery:{queue_name}"  # a STRING: one recovery at a time
# KEYS: the intermediate list, the queue. Back to the front, unless
# somebody else moved it first.
REQUEUE_SCRIPT = """
if redis.call('LREM', KEYS[1], 1, ARGV[1]) == 1 then
    redis.call('LPUSH', KEYS[2], ARGV[1])
    return 1
end
return 0
"""


def fail_unreadable(queue: Queue, job_id: str, reason: object) -> None:
    """Fail job JOB_ID of QUEUE, whose hash cannot be read, with an event."""
    message = f"Job data could not be read: {reason}"
    with queue.connection.pipeline() as pipeline:
        pipeline.lrem(queue.intermediate_queue_key, 1, job_id)
        pipeline.zadd(queue.failed_job_registry.key,
                      {job_id: time.time() + FAILED_KEPT})
        pipeline.hset(Job.key_for(job_id), "status", JobStatus.FAILED.value)
        pipeline.expire(Job.key_for(job_id), FAILED_KEPT)
        kue.record_event(pipeline, queue.name, job_id, "failed", message)
        # A key that holds no hash refuses the HSET; the rest is written.
        pipeline.execute(raise_on_error=False)


def process_exists(pid: int) -> bool:
    """Tell whether a process PID runs on this machine."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def machine() -> str:
    """Return where a worker's pid names its process: host and PID namespace.

    Containers may share a hostname (host networking) but not their pids.
    """
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        return socket.gethostname()
    return f"{socket.gethostname()} {namespace}"


class Recovery:
    """Find and end the jobs of dead workers on one queue."""

    def __init__(self, queue: Queue) -> None:
        """Recover QUEUE's jobs (its connection must not decode)."""
        self.queue = queue
        self.connection = queue.connection
        self.known_dead: set[str] = set()
        self.taken_since: dict[str, float] = {}
        self.last_run = float("-inf")
        self.requeue = self.connection.register_script(REQUEUE_SCRIPT)

    def run_if_due(self) -> None:
        """Recover if INTERVAL seconds passed since the last time."""
        if time.monotonic() - self.last_run >= INTERVAL:
            self.run()

    def run(self) -> None:
        """Recover the queue's abandoned and lost jobs, and dead workers."""
        self.last_run = time.monotonic()
        lock = self.connection.lock(
            LOCK_KEY.format(queue_name=self.queue.name), timeout=30,
            blocking=False)
        if not lock.acquire():
            return
        try:
            alive = self.bury_dead_workers()
            started = self.end_abandoned(alive)
            self.requeue_lost(started)
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # it expired: the next run takes it again

    def bury_dead_workers(self) -> set[str]:
        """Unregister the queue's dead workers; return the live ones' names."""
        here = machine()
        alive = set()
        for worker in Worker.all(queue=self.queue):
            dead = (worker.name in self.known_dead
                    or worker.death_date is not None
                    or (worker.hostname == here and worker.pid
                        and not process_exists(worker.pid)))
            if dead:
                worker.register_death()
            else:
                alive.add(worker.name)
        return alive

    def end_abandoned(self, alive: set[str]) -> set[str]:
        """Rerun or fail the jobs that workers not in ALIVE started."""
        registry = self.queue.started_job_registry
        running = set()
        for job_id, execution_id in registry.get_job_and_execution_ids(
                cleanup=False):
            execution = Execution(execution_id, job_id, self.connection)
            worker_name = self.connection.hget(execution.key, "worker_name")
            if worker_name and worker_name.decode() in alive:
                running.add(job_id)
                continue
            # Whoever removes the entry ends the job: exactly one process.
            if self.connection.zrem(registry.key, execution.composite_key):
                self.rerun_or_fail(job_id, execution.key)
        return running

    def rerun_or_fail(self, job_id: str, execution_key: str) -> None:
        """Queue the abandoned job JOB_ID again, or fail it the second time."""
        try:
            job = Job.fetch(job_id, connection=self.connection,
                            serializer=JSONSerializer)
        except NoSuchJobError:
            return
        if job.get_status(refresh=False) != JobStatus.STARTED:
            return  # it never began: requeue_lost puts it back
        reruns = int(job.meta.get(RERUNS_META, 0))
        with self.connection.pipeline() as pipeline:
            pipeline.delete(execution_key)
            pipeline.lrem(self.queue.intermediate_queue_key, 1, job_id)
            if reruns < RERUNS:
                job.meta[RERUNS_META] = reruns + 1
                pipeline.hset(job.key, "meta", job.serializer.dumps(job.meta))
                job.set_status(JobStatus.QUEUED, pipeline=pipeline)
                pipeline.lpush(self.queue.key, job_id)
            else:
                record_job_failure(job, ABANDONED, pipeline)
            pipeline.execute()
        if reruns >= RERUNS:
            kue.emit(job, "failed", ABANDONED)

    def readable(self, job_id: str) -> bool:
        """Tell whether job JOB_ID's hash reads back as a job."""
        try:
            Job.fetch(job_id, connection=self.connection,
                      serializer=JSONSerializer)
        except redis.RedisError:
            raise
        except Exception:
            return False
        return True

    def requeue_lost(self, started: set[str]) -> None:
        """Put back the jobs taken but not started for GRACE seconds."""
        intermediate = self.queue.intermediate_queue_key
        now = time.monotonic()
        taken = {job_id.decode() for job_id in
                 self.connection.lrange(intermediate, 0, -1)} - started
        self.taken_since = {job_id: self.taken_since.get(job_id, now)
                            for job_id in taken}
        for job_id, since in self.taken_since.items():
            if now - since < GRACE:
                continue
            if not self.connection.exists(Job.key_for(job_id)):
                self.connection.lrem(intermediate, 1, job_id)
            elif not self.readable(job_id):
                fail_unreadable(self.queue, job_id, "it has no data")
            else:
                self.requeue(keys=[intermediate, self.queue.key],
                             args=[job_id])
