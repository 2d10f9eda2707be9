#!/usr/bin/env python3
"""Task 10: a function that creates push notification jobs.

The Node original, 8-job.js, exported createPushNotificationsJobs(jobs,
queue): it threw 'Jobs is not an array' for anything but an array, created a
push_notification_code_3 job per object and logged each job's events;
8-job-main.js called it once. Here the function creates RQ jobs on the
queue's connection, prints their ids, and prints their events from a
background thread for as long as the process lives, without making its
caller wait.
"""
import threading

import redis
from rq import Queue
from rq.job import Job

redis_client = __import__("0-redis_client")
kue = __import__("6-job_creator")
job_creator = __import__("7-job_creator")

QUEUE_NAME = "push_notification_code_3"
JOB_FUNCTION = "7-job_processor.process_notification"
REQUIRED_KEYS = ("phoneNumber", "message")
MAIN_JOBS = [
    {"phoneNumber": "4153518780",
     "message": "This is the code 1234 to verify your account"},
]


def check_jobs(jobs: object) -> None:
    """Raise unless JOBS is a list of dicts, each with a phone and message."""
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    for index, data in enumerate(jobs):
        if not isinstance(data, dict):
            raise TypeError(f"Job {index} is not an object: {data!r}")
        missing = [key for key in REQUIRED_KEYS if key not in data]
        if missing:
            raise ValueError(f"Job {index} has no {' or '.join(missing)}")


def create_push_notifications_jobs(jobs: list[dict], queue: Queue
                                   ) -> list[Job]:
    """Create a push_notification_code_3 job per dict of JOBS; return them.

    Nothing is queued unless every job is valid. The jobs' events are then
    printed by a daemon thread, which ends once every job has ended.
    """
    check_jobs(jobs)
    connection = queue.connection
    since = kue.last_event_id(connection, QUEUE_NAME)
    created = job_creator.create_jobs(
        kue.queue_for(QUEUE_NAME, connection), jobs, JOB_FUNCTION)
    threading.Thread(target=print_events, daemon=True,
                     args=(connection, [job.id for job in created], since)
                     ).start()
    return created


def print_events(connection: redis.Redis, job_ids: list[str],
                 since: str) -> None:
    """Print the events of JOB_IDS on this task's queue until they ended."""
    for event in kue.job_events(connection, QUEUE_NAME, job_ids, since):
        job_creator.print_event(event)


def main() -> None:
    """Create the one job of 8-job-main.js; no processor waits for it."""
    connection = redis_client.connect(decode_responses=False, announce=False)
    create_push_notifications_jobs(MAIN_JOBS,
                                   kue.queue_for(QUEUE_NAME, connection))


if __name__ == "__main__":
    redis_client.run(main)
