#!/usr/bin/env python3
"""Task 7: process the jobs of a queue.

The Node original, 6-job_processor.js, called
queue.process('push_notification_code', fn), and fn passed the job's data to
sendNotification, then called done(). Here RQ workers listen on the queue
and call process_notification with each job's data: returning is Kue's
done(), raising an exception is done(error). It runs until Ctrl-C.
"""
from queuing import cli, workers  # first, for a quiet Ctrl-C

connect = __import__("0-redis_client").connect

QUEUE_NAME = "push_notification_code"


def send_notification(phone_number: str, message: str) -> None:
    """Print the notification that would be sent to PHONE_NUMBER."""
    # flush: a plain `rq worker` runs the job in a forked process that
    # ends with os._exit, which drops whatever stdout still buffers.
    print(f"Sending notification to {phone_number}, with message: {message}",
          flush=True)


def process_notification(data: dict) -> None:
    """Process one job of the queue: RQ calls this with the job's data."""
    send_notification(data["phoneNumber"], data["message"])


def main() -> None:
    """Process push_notification_code jobs, one at a time, until stopped."""
    connection = connect(decode_responses=False, announce=False)
    workers.process(QUEUE_NAME, 1, process_notification, connection)


if __name__ == "__main__":
    cli.run(main)
