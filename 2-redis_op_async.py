#!/usr/bin/env python3
"""Task 3: the same operations, reading with async/await.

The Node original, 2-redis_op_async.js, wrapped client.get in
util.promisify so that displaySchoolValue could be an async function. Python's
counterpart is redis-py's asyncio client: its commands are coroutines, so
display_school_value is one too.
"""
from queuing import cli  # first, for a quiet Ctrl-C

import asyncio

import redis
import redis.asyncio

from queuing.connection import redis_url

connect = __import__("0-redis_client").connect
set_new_school = __import__("1-redis_op").set_new_school


async def display_school_value(
        school_name: str, client: redis.asyncio.Redis | None = None) -> None:
    """Print the value stored at the key SCHOOL_NAME, awaiting the reply."""
    if client is None:
        async with redis.asyncio.Redis.from_url(
                redis_url(), decode_responses=True) as client:
            print(await client.get(school_name))
    else:
        print(await client.get(school_name))


async def show_schools(client: redis.Redis, url: str) -> None:
    """Display Holberton, set HolbertonSanFrancisco to 100, display it.

    Reads go through an asyncio client on URL; the write stays the plain
    call of task 2 on CLIENT, as the original kept setNewSchool's callback.
    """
    async with redis.asyncio.Redis.from_url(
            url, decode_responses=True) as async_client:
        await display_school_value("Holberton", async_client)
        set_new_school("HolbertonSanFrancisco", "100", client)
        await display_school_value("HolbertonSanFrancisco", async_client)


def main() -> None:
    """Connect (printing the connection line), then run the async part."""
    client = connect()
    asyncio.run(show_schools(client, redis_url()))


if __name__ == "__main__":
    cli.run(main)
