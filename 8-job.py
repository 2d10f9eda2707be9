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
from queuing import cli, kue  # first, for a quiet Ctrl-C

from rq import Queue
from rq.job import Job

connect = __import__("0-redis_client").connect

QUEUE_NAME = "push_notification_code_3"
JOB_FUNCTION = "7-job_processor.process_notification"
REQUIRED_KEYS = ("phoneNumber", "message")
MAIN_JOBS = [
    {"phoneNumber": "4153518780",
     "message": "This is the code 1234 to verify your account"},
]


def check_jobs(jobs: object) -> None:
    """Raise unless JOBS is a list of dicts, each with a phone and message.

    Every job is checked before any is queued.
    """
    if not isinstance(jobs, list):
        raise TypeError("Jobs is not an array")
    for index, data in enumerate(jobs):
        if not isinstance(data, dict) or not all(
                key in data for key in REQUIRED_KEYS):
            raise ValueError(f"Job {index} is not an object with a "
                             f"phoneNumber and a message: {data!r}")
        kue.check_data(data, f"Job {index}")


def create_push_notifications_jobs(jobs: list[dict], queue: Queue
                                   ) -> list[Job]:
    """Create a push_notification_code_3 job per dict of JOBS; return them.

    Nothing is queued unless every job is valid. The jobs' events are then
    printed by a daemon thread, which ends once every job has ended.
    """
    check_jobs(jobs)
    queue = kue.queue_for(QUEUE_NAME, queue.connection)
    since = kue.last_event_id(queue.connection, QUEUE_NAME)
    created = []
    for data in jobs:
        job = kue.create_job(queue, JOB_FUNCTION, data)
        print(f"Notification job created: {job.id}")
        created.append(job)
    kue.follow_in_background(queue.connection, QUEUE_NAME,
                             [job.id for job in created], since, print_event)
    return created


def print_event(event: kue.JobEvent) -> None:
    """Print a job's event the way the original's listeners logged it."""
    if event.event == "progress":
        print(f"Notification job {event.job_id} {event.value}% complete")
    elif event.event == "complete":
        print(f"Notification job {event.job_id} completed")
    elif event.event == "failed":
        print(f"Notification job {event.job_id} failed: {event.value}")


def main() -> None:
    """Create the one job of 8-job-main.js; no processor waits for it."""
    connection = connect(decode_responses=False, announce=False)
    create_push_notifications_jobs(MAIN_JOBS,
                                   kue.queue_for(QUEUE_NAME, connection))


if __name__ == "__main__":
    cli.run(main)
