"""Task 2: 1-redis_op.py sets and gets keys, printing like redis.print."""
import importlib

from helpers import run_script

redis_op = importlib.import_module("1-redis_op")

EXPECTED = """\
Redis client connected to the server
School
Reply: OK
100
"""


def test_set_new_school_sets_the_key_and_prints_the_reply(client, capsys):
    redis_op.set_new_school("HolbertonSanFrancisco", "100", client)
    assert client.get("HolbertonSanFrancisco") == "100"
    assert capsys.readouterr().out == "Reply: OK\n"


def test_display_school_value_prints_the_value(client, capsys):
    client.set("Holberton", "School")
    redis_op.display_school_value("Holberton", client)
    assert capsys.readouterr().out == "School\n"


def test_display_school_value_of_a_missing_key_prints_none(client, capsys):
    redis_op.display_school_value("Nowhere", client)
    assert capsys.readouterr().out == "None\n"


def test_print_reply_prints_like_redis_print(capsys):
    redis_op.print_reply(1)
    assert capsys.readouterr().out == "Reply: 1\n"


def test_script_output_matches_the_task(real_redis, real_client):
    real_client.set("Holberton", "School")
    result = run_script("1-redis_op.py", real_redis)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, EXPECTED, "")
