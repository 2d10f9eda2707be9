#!/usr/bin/env python3
"""Task 4: store and read a hash.

The Node original, 4-redis_advanced_op.js, called client.hset once per field
with redis.print as the callback, then logged client.hgetall's object. Here
each HSET reply is printed the same way, and HGETALL comes back as a dict.
"""
from queuing import cli  # first, for a quiet Ctrl-C

import redis

from queuing.connection import default_client

connect = __import__("0-redis_client").connect
print_reply = __import__("1-redis_op").print_reply

HASH_KEY = "HolbertonSchools"
SCHOOLS = {
    "Portland": 50,
    "Seattle": 80,
    "New York": 20,
    "Bogota": 20,
    "Cali": 40,
    "Paris": 2,
}


def create_schools(client: redis.Redis | None = None) -> None:
    """HSET each school into HolbertonSchools, printing every reply."""
    client = client or default_client()
    for city, value in SCHOOLS.items():
        print_reply(client.hset(HASH_KEY, city, value))


def display_schools(client: redis.Redis | None = None) -> None:
    """Print the whole HolbertonSchools hash as a dict."""
    client = client or default_client()
    print(client.hgetall(HASH_KEY))


def main() -> None:
    """Create the hash, then display it."""
    client = connect()
    create_schools(client)
    display_schools(client)


if __name__ == "__main__":
    cli.run(main)
