#!/usr/bin/env python3
"""Task 1: connect to a Redis server and say whether it worked.

The Node original, 0-redis_client.js, called redis.createClient() and logged
from the client's 'connect' and 'error' events. redis-py connects lazily, so
here a PING proves the connection (tried again if Redis dropped it at
once). The later scripts reuse connect().
"""
from queuing import cli  # first, for a quiet Ctrl-C

import sys

import redis

from queuing.connection import ping, redis_url


def connect(url: str | None = None, decode_responses: bool = True,
            announce: bool = True) -> redis.Redis:
    """Return a client whose server answered, printing the connection line.

    When the server cannot be reached (or the URL is malformed) this prints
    the not-connected line with the client's own error text and exits 1.
    With ANNOUNCE false (the job scripts, whose originals print no
    connection line) only the failure is printed.
    """
    try:
        client = redis.Redis.from_url(url or redis_url(),
                                      decode_responses=decode_responses)
        ping(client)
    except (redis.RedisError, ValueError) as error:
        print(f"Redis client not connected to the server: {error}")
        sys.exit(1)
    if announce:
        print("Redis client connected to the server")
    return client


def main() -> None:
    """Connect once and report it, as 0-redis_client.js did."""
    connect()


if __name__ == "__main__":
    cli.run(main)
