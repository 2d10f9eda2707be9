"""Task 5: 5-subscriber.py prints a channel's messages until KILL_SERVER."""
import importlib
import threading

import pytest

from helpers import ON_THE_CHANNEL, Script, run_script, wait_until

pytestmark = ON_THE_CHANNEL

subscriber = importlib.import_module("5-subscriber")

CHANNEL = "holberton school channel"
SUBSCRIBER_OUTPUT = """\
Redis client connected to the server
Holberton Student #1 starts course
Holberton Student #2 starts course
KILL_SERVER
"""
PUBLISHER_OUTPUT = """\
Redis client connected to the server
About to send Holberton Student #1 starts course
About to send Holberton Student #2 starts course
About to send KILL_SERVER
About to send Holberton Student #3 starts course
"""


def subscribers(client) -> int:
    """Return how many clients listen on the task's channel."""
    return dict(client.pubsub_numsub(CHANNEL))[CHANNEL]


def test_print_messages_prints_until_kill_server(backend, capsys):
    publisher = backend.client()
    listener = threading.Thread(target=subscriber.print_messages,
                                args=(backend.client(),), daemon=True)
    listener.start()
    wait_until(lambda: subscribers(publisher) == 1, message="a subscriber")
    for message in ["first", "KILL_SERVER", "never printed"]:
        publisher.publish(CHANNEL, message)
    listener.join(timeout=10)
    assert not listener.is_alive(), "print_messages ignored KILL_SERVER"
    assert capsys.readouterr().out == "first\nKILL_SERVER\n"
    assert subscribers(publisher) == 0


def test_subscriber_and_publisher_print_the_task_output(real_redis,
                                                        real_client):
    listening = Script("5-subscriber.py", real_redis)
    try:
        wait_until(lambda: subscribers(real_client) == 1,
                   message="5-subscriber.py to subscribe")
        published = run_script("5-publisher.py", real_redis)
        assert (published.returncode, published.stdout, published.stderr
                ) == (0, PUBLISHER_OUTPUT, "")
        assert listening.wait() == (0, SUBSCRIBER_OUTPUT, "")
    finally:
        listening.kill()
