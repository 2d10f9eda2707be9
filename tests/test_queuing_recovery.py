"""queuing.recovery: the jobs of dead workers end once; dead workers go."""
import os
import signal
import socket
import subprocess
import sys

import pytest
import redis
from rq import Queue, Worker
from rq.job import JobStatus
from rq.serializers import JSONSerializer

from helpers import Script, wait_until
from queuing import kue, recovery
from queuing.worker import KueWorker
from tools import kue_options

QUEUE = "push_notification_code_2"
FUNCTION = "7-job_processor.process_notification"
DATA = {"phoneNumber": "4153518743", "message": "hi"}


@pytest.fixture
def queue(connection) -> Queue:
    """Return the task 8 queue on the backend under test."""
    return kue.queue_for(QUEUE, connection)


def dead_pid() -> int:
    """Return the id of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def worker_on(queue: Queue, name: str, pid: int | None = None,
              hostname: str | None = None) -> Worker:
    """Register a worker NAME on QUEUE, as if its process were PID.

    It runs on this machine (recovery.machine), unless HOSTNAME says.
    """
    worker = Worker([queue], connection=queue.connection, name=name,
                    serializer=JSONSerializer)
    worker.hostname = hostname or recovery.machine()
    worker.register_birth()
    if pid is not None:
        queue.connection.hset(worker.key, "pid", pid)
    return worker


def take(queue: Queue):
    """Take the next job of QUEUE as a worker does, and return it."""
    Queue.lmove(queue.connection, queue.key, None)
    job_id = queue.connection.lindex(queue.intermediate_queue_key, -1)
    return queue.fetch_job(job_id.decode())


def started_by(worker: Worker, queue: Queue):
    """Create a job, and take and start it as WORKER does; return it."""
    kue.create_job(queue, FUNCTION, DATA)
    job = take(queue)
    worker.prepare_execution(job)
    job.set_status(JobStatus.STARTED)
    return job


def events(connection, job) -> list[tuple[str, str, str]]:
    """Return the events of JOB so far."""
    reader = kue.read_events(connection, QUEUE, "0-0", block=1)
    found = []
    for entry in reader:
        if entry is None:
            return found
        if entry[1].job_id == job.id:
            found.append(tuple(entry[1]))
    return found


def test_a_worker_of_this_hostname_in_another_pid_namespace_is_alive(
        connection, queue):
    # A container with host networking: same hostname, pids of its own.
    other = worker_on(queue, "other", pid=dead_pid(),
                      hostname=socket.gethostname() + " pid:[1]")
    job = started_by(other, queue)
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == JobStatus.STARTED
    assert other.name in {worker.name for worker in Worker.all(queue=queue)}


def test_a_worker_names_its_pid_namespace_beside_its_hostname(
        connection, queue):
    worker = KueWorker([queue], connection=connection,
                       serializer=JSONSerializer)
    worker.register_birth()
    [found] = Worker.all(queue=queue)
    namespace = os.readlink("/proc/self/ns/pid")
    assert found.hostname == f"{socket.gethostname()} {namespace}"


def test_a_job_started_by_a_dead_worker_runs_again_first(connection, queue):
    ghost = worker_on(queue, "ghost", pid=dead_pid())
    job = started_by(ghost, queue)
    waiting = kue.create_job(queue, FUNCTION, DATA)
    recovery.Recovery(queue).run()
    recovery.Recovery(queue).run()  # a second recovery finds nothing
    assert job.get_status(refresh=True) == "queued"
    assert queue.job_ids == [job.id, waiting.id]
    assert job.get_meta(refresh=True)[recovery.RERUNS_META] == 1
    assert events(connection, job) == []
    assert connection.zcard(queue.started_job_registry.key) == 0
    assert connection.llen(queue.intermediate_queue_key) == 0
    assert connection.smembers(f"rq:workers:{QUEUE}") == set()


def test_a_job_abandoned_twice_fails_once(connection, queue):
    first, second = (worker_on(queue, name, pid=dead_pid())
                     for name in ("first", "second"))
    job = started_by(first, queue)
    recovery.Recovery(queue).run()
    take(queue)
    second.prepare_execution(job)
    job.set_status(JobStatus.STARTED)
    recovery.Recovery(queue).run()
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == "failed"
    assert events(connection, job) == [
        (job.id, "failed", recovery.ABANDONED)]
    assert job.id in queue.failed_job_registry.get_job_ids()
    assert (queue.count, connection.llen(queue.intermediate_queue_key),
            connection.zcard(queue.started_job_registry.key)) == (0, 0, 0)


def test_a_job_of_a_live_worker_is_left_alone(connection, queue):
    alive = worker_on(queue, "alive")  # this process: alive
    job = started_by(alive, queue)
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == "started"
    assert events(connection, job) == []
    assert connection.smembers(f"rq:workers:{QUEUE}") == {
        b"rq:worker:alive"}


def test_a_started_job_whose_worker_key_expired_fails(connection, queue):
    ghost = worker_on(queue, "ghost")
    job = started_by(ghost, queue)
    connection.delete(ghost.key)  # its heartbeat ran out
    connection.srem(f"rq:workers:{QUEUE}", ghost.key)
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == "queued"


def test_a_worker_known_dead_in_this_process_counts_as_dead(
        connection, queue):
    thread_worker = worker_on(queue, "thread")
    job = started_by(thread_worker, queue)
    recovering = recovery.Recovery(queue)
    recovering.known_dead.add("thread")
    recovering.run()
    assert job.get_status(refresh=True) == "queued"


def test_a_taken_but_never_started_job_goes_back_to_the_front_after_grace(
        connection, queue, monkeypatch):
    first = kue.create_job(queue, FUNCTION, DATA)
    second = kue.create_job(queue, FUNCTION, DATA)
    take(queue)
    assert queue.job_ids == [second.id]
    clock = [1000.0]
    monkeypatch.setattr(recovery.time, "monotonic", lambda: clock[0])
    recovering = recovery.Recovery(queue)
    recovering.run()
    assert queue.job_ids == [second.id], "requeued within the grace time"
    clock[0] += recovery.GRACE
    recovering.run()
    assert queue.job_ids == [first.id, second.id]
    assert connection.llen(queue.intermediate_queue_key) == 0
    assert first.get_status(refresh=True) == "queued"


def test_a_taken_job_that_no_longer_exists_is_dropped(
        connection, queue, monkeypatch):
    job = kue.create_job(queue, FUNCTION, DATA)
    take(queue)
    job.delete()
    clock = [1000.0]
    monkeypatch.setattr(recovery.time, "monotonic", lambda: clock[0])
    recovering = recovery.Recovery(queue)
    recovering.run()
    clock[0] += recovery.GRACE
    recovering.run()
    assert (queue.count, connection.llen(queue.intermediate_queue_key)) == (
        0, 0)


def test_only_one_recovery_runs_at_a_time(connection, queue):
    ghost = worker_on(queue, "ghost", pid=dead_pid())
    job = started_by(ghost, queue)
    lock = connection.lock(f"kue:recovery:{QUEUE}", timeout=30)
    assert lock.acquire(blocking=False)
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == "started"
    lock.release()
    recovery.Recovery(queue).run()
    assert job.get_status(refresh=True) == "queued"


def test_run_if_due_waits_for_the_interval(queue, monkeypatch):
    clock = [1000.0]
    monkeypatch.setattr(recovery.time, "monotonic", lambda: clock[0])
    recovering = recovery.Recovery(queue)
    runs = []
    monkeypatch.setattr(recovering, "run", lambda: runs.append(clock[0])
                        or setattr(recovering, "last_run", clock[0]))
    recovering.run_if_due()
    clock[0] += recovery.INTERVAL - 1
    recovering.run_if_due()
    clock[0] += 1
    recovering.run_if_due()
    assert runs == [1000.0, 1000.0 + recovery.INTERVAL]


def examples_processor(url: str, *wrapper: str) -> Script:
    """Start the Kue examples' processor, inside WRAPPER if given."""
    return Script("kue_options", url, command=[
        *wrapper, sys.executable, "-m", "tools.kue_options", "process"])


@pytest.mark.slow
def test_a_processor_in_another_pid_namespace_keeps_its_running_job(
        real_redis, tmp_path):
    unshare = ["unshare", "--pid", "--fork", "--mount-proc"]
    if subprocess.run([*unshare, "true"], capture_output=True).returncode:
        pytest.skip("unshare --pid needs root here")
    connection = redis.Redis.from_url(real_redis)
    queue = kue.queue_for(kue_options.QUEUE_NAME, connection)
    workers_key = f"rq:workers:{kue_options.QUEUE_NAME}"
    inside = examples_processor(real_redis, *unshare)
    outside = None
    try:
        wait_until(lambda: connection.scard(workers_key) == 1,
                   timeout=20, message="the first processor's worker")
        job = kue.create_job(queue, kue_options.run_job,
                             {"name": "slow", "seconds": 8})
        wait_until(lambda: job.get_status(refresh=True) == "started",
                   timeout=10, message="the job to start")
        # Same hostname, other pids: its recovery looks at the first
        # processor's worker, whose pid means nothing here.
        outside = examples_processor(real_redis)
        wait_until(lambda: connection.scard(workers_key) == 2,
                   timeout=20, message="the second processor's worker")
        wait_until(lambda: job.get_status(refresh=True) == "finished",
                   timeout=30, message="the job to finish")
        assert [event.event for event in kue.job_events(
            connection, queue.name, [job.id], block=10)] == [
            "progress", "complete"]
        assert connection.scard(workers_key) == 2, "no live worker buried"
        assert inside.stop(signal.SIGINT, group=True) == (
            0, "Ran slow (try 1)\n", "")
        assert outside.stop(signal.SIGINT, group=True) == (0, "", "")
    finally:
        for script in [inside, outside]:
            if script is not None:
                script.kill()
        connection.close()
