"""Task 3: 2-redis_op_async.py reads with a coroutine on redis.asyncio."""
import asyncio
import importlib
import inspect

from helpers import run_script

redis_op_async = importlib.import_module("2-redis_op_async")

EXPECTED = """\
Redis client connected to the server
School
Reply: OK
100
"""


def test_display_school_value_is_a_coroutine_function():
    assert inspect.iscoroutinefunction(redis_op_async.display_school_value)


def test_display_school_value_awaits_and_prints_the_value(backend, capsys):
    backend.client().set("Holberton", "School")

    async def display() -> None:
        client = backend.async_client()
        try:
            await redis_op_async.display_school_value("Holberton", client)
        finally:
            await client.aclose()

    asyncio.run(display())
    assert capsys.readouterr().out == "School\n"


def test_script_output_matches_the_task(real_redis, real_client):
    real_client.set("Holberton", "School")
    result = run_script("2-redis_op_async.py", real_redis)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, EXPECTED, "")
    assert real_client.get("HolbertonSanFrancisco") == "100"
