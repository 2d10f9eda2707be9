#!/usr/bin/env python3
"""Task 5, the subscriber: print what is published on a channel.

The Node original, 5-subscriber.js, subscribed a client to "holberton school
channel", logged every message, and on KILL_SERVER unsubscribed and quit.
redis-py gives a PubSub object whose listen() yields the messages in order.
"""
from queuing import cli  # first, for a quiet Ctrl-C

import redis

from queuing.connection import default_client

connect = __import__("0-redis_client").connect

CHANNEL = "holberton school channel"
KILL_MESSAGE = "KILL_SERVER"


def print_messages(client: redis.Redis | None = None) -> None:
    """Print each message on CHANNEL until KILL_SERVER, then unsubscribe."""
    client = client or default_client()
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    try:
        for message in pubsub.listen():
            print(message["data"])
            if message["data"] == KILL_MESSAGE:
                pubsub.unsubscribe()
                break
    finally:
        pubsub.close()


def main() -> None:
    """Connect, listen until KILL_SERVER, then quit."""
    client = connect()
    print_messages(client)
    client.close()


if __name__ == "__main__":
    cli.run(main)
