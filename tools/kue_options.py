#!/usr/bin/env python3
"""Kue's job options on this port, one runnable example each.

Kue's jobs had more to them than the tasks used: .priority('high'),
.attempts(3), .backoff({delay: 250, type: 'exponential'}), .delay(1500),
.ttl(1000), .removeOnComplete(true), and the 'failed attempt' event.
queuing.kue.create_job takes the same options by the same names, in
snake_case, with times in ms. From the repository's root, with the venv
active, run the processor in one terminal and an example in another:

    python -m tools.kue_options process
    python -m tools.kue_options priority

(python tools/kue_options.py ... works too.) The examples are priority,
attempts, backoff, delay, ttl and remove. Each creates its jobs on the
queue kue_options, then prints their events as they come, each after the
ms since the example created its first job.
"""
import sys
import time
from pathlib import Path

# The repository's root, for queuing and the numbered scripts, when this
# file is run by its path (python tools/kue_options.py).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
try:
    import queuing  # first: only built-ins, safe outside the venv
    import redis
    from rq import get_current_job
    from rq.job import Job, JobStatus

    from queuing import cli, kue, workers
except ModuleNotFoundError as missing:  # outside the venv
    sys.exit(f"Error: {missing}: {queuing.VENV_HINT}")

connect = __import__("0-redis_client").connect

QUEUE_NAME = "kue_options"
# Each example's jobs: a name, the job's data and Kue's options. In the
# data, "fail" is how many tries fail, "seconds" how long a try works.
EXAMPLES = {
    # One worker, busy for half a second: the five jobs queued meanwhile
    # wait, then run by priority, not in the order they came.
    "priority": [
        ("busy", {"seconds": 0.5}, {}),
        ("low", {}, {"priority": "low"}),
        ("normal", {}, {"priority": "normal"}),
        ("medium", {}, {"priority": "medium"}),
        ("high", {}, {"priority": "high"}),
        ("critical", {}, {"priority": "critical"}),
    ],
    # A failed try is a "failed attempt" while tries remain; the last one
    # is "failed".
    "attempts": [
        ("flaky", {"fail": 2}, {"attempts": 3}),
        ("hopeless", {"fail": 5}, {"attempts": 2}),
    ],
    # The next try waits: 1 s each time, or 1, 2, then 4 s.
    "backoff": [
        ("fixed", {"fail": 2},
         {"attempts": 3, "backoff": {"type": "fixed", "delay": 1000}}),
        ("exponential", {"fail": 3},
         {"attempts": 4, "backoff": {"type": "exponential", "delay": 1000}}),
    ],
    # The delayed job starts 1.5 s after it was created, or a little later.
    "delay": [
        ("now", {}, {}),
        ("later", {}, {"delay": 1500}),
    ],
    # The slow job is stopped after its ttl; the worker goes on.
    "ttl": [
        ("slow", {"seconds": 3}, {"ttl": 1000}),
        ("quick", {}, {"ttl": 1000}),
    ],
    # Once completed, the kept job is still in Redis; the other is not.
    "remove": [
        ("kept", {}, {}),
        ("removed", {}, {"remove_on_complete": True}),
    ],
}


def run_job(data: dict) -> None:
    """Run one example job: its first FAIL tries fail, the others work."""
    job = get_current_job()
    attempt = kue.attempts_made(job)
    # Kue's job.progress: 0% marks when each try starts.
    kue.report_progress(job, 0, 100)
    if attempt <= data.get("fail", 0):
        raise RuntimeError("Service unavailable")
    time.sleep(data.get("seconds", 0))
    print(f"Ran {data['name']} (try {attempt})", flush=True)


def describe(event: kue.JobEvent, name: str) -> str:
    """Return EVENT of the job called NAME as Kue's listeners logged it."""
    job = f"Job {event.job_id} ({name})"
    if event.event == kue.FAILED_ATTEMPT:
        attempt, message = kue.failed_attempt(event)
        return f"{job} failed attempt {attempt}: {message}"
    if event.event == "progress":
        return f"{job} {event.value}% complete"
    if event.event == "complete":
        return f"{job} completed"
    return f"{job} failed: {event.value}"


def traces(connection: redis.Redis, job_id: str) -> list[str]:
    """Return the keys that still hold anything of job JOB_ID.

    Its own keys (rq:job:ID, rq:results:ID...) and the lists, sets and
    hashes that name it: queues and registries, kue:priorities. The event
    streams, kue:events:QUEUE, keep their entries and are not counted.
    """
    found = []
    for key in sorted(name.decode() for name in connection.scan_iter()):
        kind = connection.type(key).decode()
        if job_id in key.split(":"):
            found.append(key)
        elif kind == "zset" and connection.zscore(key, job_id) is not None:
            found.append(key)
        elif kind == "zset" and any(
                member.decode().split(":")[0] == job_id
                for member in connection.zrange(key, 0, -1)):
            found.append(key)  # the started registry: "ID:EXECUTION"
        elif kind == "list" and connection.lpos(key, job_id) is not None:
            found.append(key)
        elif kind == "hash" and key.startswith("kue:") and (
                connection.hexists(key, job_id)):
            found.append(key)
    return found


def settled(connection: redis.Redis, job_id: str) -> bool:
    """Tell whether RQ is done with JOB_ID: ended, or deleted.

    The complete event comes just before RQ stores the job's end.
    """
    status = connection.hget(Job.key_for(job_id), "status")
    return status in (None, JobStatus.FINISHED.encode(),
                      JobStatus.FAILED.encode())


def run_example(name: str, connection: redis.Redis) -> None:
    """Create the example's jobs, then print their events until they end."""
    queue = kue.queue_for(QUEUE_NAME, connection)
    since = kue.last_event_id(connection, QUEUE_NAME)
    start = time.monotonic()
    names = {}
    for job_name, data, options in EXAMPLES[name]:
        job = kue.create_job(queue, run_job, {"name": job_name, **data},
                             **options)
        names[job.id] = job_name
        given = ", ".join(f"{key}={value!r}" for key, value in options.items())
        say(start, f"Job {job.id} ({job_name}) created"
            + (f" with {given}" if given else ""))
    for event in kue.job_events(connection, QUEUE_NAME, list(names), since):
        say(start, describe(event, names[event.job_id]))
    if name == "remove":
        for job_id, job_name in names.items():
            deadline = time.monotonic() + 10
            while not settled(connection, job_id) and (
                    time.monotonic() < deadline):
                time.sleep(0.01)
            left = ", ".join(traces(connection, job_id)) or "nothing"
            print(f"Job {job_id} ({job_name}) left in Redis: {left}")


def say(start: float, line: str) -> None:
    """Print LINE after the ms since START."""
    print(f"{(time.monotonic() - start) * 1000:6.0f} ms  {line}")


def main() -> None:
    """Run the processor, or the example named on the command line."""
    choice = sys.argv[1] if len(sys.argv) == 2 else ""
    if choice != "process" and choice not in EXAMPLES:
        sys.exit("usage: python -m tools.kue_options process | "
                 + " | ".join(EXAMPLES))
    # No Redis: one line and exit 1, as the processors do (the workers
    # alone would wait for it to come back).
    connection = connect(decode_responses=False, announce=False)
    if choice == "process":
        # One job at a time, so that the order of the jobs shows.
        workers.process(QUEUE_NAME, 1, run_job, connection)
    else:
        run_example(choice, connection)


if __name__ == "__main__":
    # Run as the module tools.kue_options, however started: a job names
    # its function by its module, and the processor and the examples must
    # name the same one.
    from tools import kue_options
    cli.run(kue_options.main)
