#!/usr/bin/env python3
"""Task 9: process jobs two at a time, with progress and failures.

The Node original, 7-job_processor.js, processed push_notification_code_2
jobs two at a time; sendNotification reported progress with
job.progress(0, 100), failed blacklisted numbers with done(new Error(...)),
and otherwise reported 50% and sent. Here two RQ workers share the queue,
kue.report_progress records the percentage for the creator to print, and a
raised exception fails the job with its message.
"""
from queuing import cli, kue, workers  # first, for a quiet Ctrl-C

from rq import get_current_job
from rq.job import Job

connect = __import__("0-redis_client").connect

QUEUE_NAME = "push_notification_code_2"
BLACKLISTED_NUMBERS = ["4153518780", "4153518781"]


def send_notification(phone_number: str, message: str, job: Job) -> None:
    """Send MESSAGE to PHONE_NUMBER, unless the number is blacklisted."""
    kue.report_progress(job, 0, 100)
    if phone_number in BLACKLISTED_NUMBERS:
        raise ValueError(f"Phone number {phone_number} is blacklisted")
    kue.report_progress(job, 50, 100)
    # flush: a plain `rq worker` runs the job in a forked process that
    # ends with os._exit, which drops whatever stdout still buffers.
    print(f"Sending notification to {phone_number}, with message: {message}",
          flush=True)


def process_notification(data: dict) -> None:
    """Process one job of the queue: RQ calls this with the job's data."""
    send_notification(data["phoneNumber"], data["message"],
                      get_current_job())


def main() -> None:
    """Process push_notification_code_2 jobs, two at a time, until stopped."""
    connection = connect(decode_responses=False, announce=False)
    workers.process(QUEUE_NAME, 2, process_notification, connection)


if __name__ == "__main__":
    cli.run(main)
