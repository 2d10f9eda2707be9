#!/usr/bin/env python3
"""Task 6: create a job in a queue, and hear how it ends.

The Node original, 6-job_creator.js, created a Kue job of type
push_notification_code with queue.create(type, data).save(), logged its id,
and logged from the job's 'complete' and 'failed' events. RQ is this port's
Kue: the job type is an RQ queue, and the job runs the processor's function
with the data. queuing.kue gives the jobs Kue's ids and events.
"""
from queuing import cli, kue  # first, for a quiet Ctrl-C

from rq import Queue
from rq.job import Job

connect = __import__("0-redis_client").connect

QUEUE_NAME = "push_notification_code"
JOB_FUNCTION = "6-job_processor.process_notification"
JOB_DATA = {
    "phoneNumber": "4153518780",
    "message": "This is the code to verify your account",
}


def create_notification_job(queue: Queue) -> Job:
    """Create the task's notification job and print its id."""
    job = kue.create_job(queue, JOB_FUNCTION, JOB_DATA)
    print(f"Notification job created: {job.id}")
    return job


def main() -> None:
    """Create the job, then print how it ended once a processor ran it."""
    connection = connect(decode_responses=False, announce=False)
    since = kue.last_event_id(connection, QUEUE_NAME)
    job = create_notification_job(kue.queue_for(QUEUE_NAME, connection))
    for event in kue.job_events(connection, QUEUE_NAME, [job.id], since):
        if event.event == "complete":
            print("Notification job completed")
        elif event.event == "failed":
            print("Notification job failed")


if __name__ == "__main__":
    cli.run(main)
