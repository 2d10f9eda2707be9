#!/usr/bin/env python3
"""Task 5, the publisher: send messages on a channel after a delay.

The Node original, 5-publisher.js, called publishMessage four times; each call
set its own setTimeout, so every delay counted from the start of the script.
publish_message does the same with a threading.Timer that it starts and
returns, and main waits for the four timers before it exits.
"""
from queuing import cli  # first, for a quiet Ctrl-C

import threading

import redis

from queuing.connection import default_client

connect = __import__("0-redis_client").connect

CHANNEL = "holberton school channel"
SCHEDULE = [
    ("Holberton Student #1 starts course", 100),
    ("Holberton Student #2 starts course", 200),
    ("KILL_SERVER", 300),
    ("Holberton Student #3 starts course", 400),
]


def publish_message(message: str, time: int,
                    client: redis.Redis | None = None) -> threading.Timer:
    """After TIME milliseconds, announce MESSAGE and publish it on CHANNEL.

    The call returns at once with the started timer; join it to wait.
    TIME must be a number of milliseconds, 0 or more.
    """
    if isinstance(time, bool) or not isinstance(time, (int, float)) \
            or not time >= 0:
        raise ValueError(f"time must be milliseconds >= 0, not {time!r}")
    client = client or default_client()

    def send() -> None:
        """Announce the message, then publish it."""
        print(f"About to send {message}")
        client.publish(CHANNEL, message)

    timer = threading.Timer(time / 1000, send)
    timer.daemon = True
    timer.start()
    return timer


def main() -> None:
    """Connect, schedule the four messages and wait until all are sent."""
    client = connect()
    timers = [publish_message(message, delay, client)
              for message, delay in SCHEDULE]
    for timer in timers:
        timer.join()


if __name__ == "__main__":
    cli.run(main)
