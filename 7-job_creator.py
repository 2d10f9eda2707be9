#!/usr/bin/env python3
"""Task 8: create a list of jobs and follow each one's events.

The Node original, 7-job_creator.js, created one push_notification_code_2
job per entry of an array and listened to each job's 'complete', 'failed'
and 'progress' events. Here the jobs are RQ jobs, with Kue's ids and
events from queuing.kue: the creator prints every event of its jobs as the
workers record them, then exits once all of them have ended.
"""
from queuing import cli, kue  # first, for a quiet Ctrl-C

connect = __import__("0-redis_client").connect

QUEUE_NAME = "push_notification_code_2"
JOB_FUNCTION = "7-job_processor.process_notification"
JOBS = [
    {"phoneNumber": "4153518780",
     "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781",
     "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153518743",
     "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153538781",
     "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153118782",
     "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4153718781",
     "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4159518782",
     "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4158718781",
     "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4153818782",
     "message": "This is the code 4321 to verify your account"},
    {"phoneNumber": "4154318781",
     "message": "This is the code 4562 to verify your account"},
    {"phoneNumber": "4151218782",
     "message": "This is the code 4321 to verify your account"},
]


def print_event(event: kue.JobEvent) -> None:
    """Print a notification job's event the way the original logged it."""
    if event.event == "progress":
        print(f"Notification job {event.job_id} {event.value}% complete")
    elif event.event == "complete":
        print(f"Notification job {event.job_id} completed")
    elif event.event == "failed":
        print(f"Notification job {event.job_id} failed: {event.value}")


def main() -> None:
    """Create the jobs, then print their events until all of them ended."""
    connection = connect(decode_responses=False, announce=False)
    queue = kue.queue_for(QUEUE_NAME, connection)
    since = kue.last_event_id(connection, QUEUE_NAME)
    job_ids = []
    for data in JOBS:
        job = kue.create_job(queue, JOB_FUNCTION, data)
        print(f"Notification job created: {job.id}")
        job_ids.append(job.id)
    for event in kue.job_events(connection, QUEUE_NAME, job_ids, since):
        print_event(event)


if __name__ == "__main__":
    cli.run(main)
