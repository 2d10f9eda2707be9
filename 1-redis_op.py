#!/usr/bin/env python3
"""Task 2: basic operations with the Redis client.

The Node original, 1-redis_op.js, wrote with client.set(key, value,
redis.print) and read with client.get(key, callback). redis-py returns the
reply instead of calling back, so print_reply plays the part of redis.print.
"""
from queuing import cli  # first, for a quiet Ctrl-C

import redis

from queuing.connection import default_client

connect = __import__("0-redis_client").connect


def print_reply(reply: object) -> None:
    """Print a command's reply the way node-redis' redis.print does."""
    print(f"Reply: {reply}")


def set_new_school(school_name: str, value: str,
                   client: redis.Redis | None = None) -> None:
    """Set the key SCHOOL_NAME to VALUE and print the server's reply."""
    client = client or default_client()
    # redis-py turns SET's "OK" into True; redis.print showed the raw "OK".
    if client.set(school_name, value):
        print_reply("OK")


def display_school_value(school_name: str,
                         client: redis.Redis | None = None) -> None:
    """Print the value stored at the key SCHOOL_NAME."""
    client = client or default_client()
    print(client.get(school_name))


def main() -> None:
    """Display Holberton, set HolbertonSanFrancisco to 100, display it."""
    client = connect()
    display_school_value("Holberton", client)
    set_new_school("HolbertonSanFrancisco", "100", client)
    display_school_value("HolbertonSanFrancisco", client)


if __name__ == "__main__":
    cli.run(main)
