"""Task 5: 5-publisher.py publishes each message after its own delay."""
import importlib
import threading

from helpers import ON_THE_CHANNEL, wait_until

pytestmark = ON_THE_CHANNEL

publisher = importlib.import_module("5-publisher")

CHANNEL = "holberton school channel"


def received(pubsub, count: int) -> list[str]:
    """Collect COUNT messages from PUBSUB, failing after a deadline."""
    messages = []

    def more() -> bool:
        message = pubsub.get_message(ignore_subscribe_messages=True,
                                     timeout=0.05)
        if message:
            messages.append(message["data"])
        return len(messages) == count

    wait_until(more, message=f"{count} messages")
    return messages


def test_publish_message_returns_at_once_then_announces_and_publishes(
        backend, capsys):
    pubsub = backend.client().pubsub()
    pubsub.subscribe(CHANNEL)
    timer = publisher.publish_message("hello", 50, backend.client())
    assert isinstance(timer, threading.Timer) and timer.is_alive()
    timer.join(timeout=10)
    assert received(pubsub, 1) == ["hello"]
    assert capsys.readouterr().out == "About to send hello\n"
    pubsub.close()


def test_delays_count_from_the_start_like_separate_timers(backend, capsys):
    pubsub = backend.client().pubsub()
    pubsub.subscribe(CHANNEL)
    client = backend.client()
    # Scheduled late-first: chained delays would send "late" first.
    timers = [publisher.publish_message("late", 300, client),
              publisher.publish_message("early", 100, client)]
    for timer in timers:
        timer.join(timeout=10)
    assert received(pubsub, 2) == ["early", "late"]
    assert capsys.readouterr().out == ("About to send early\n"
                                       "About to send late\n")
    pubsub.close()
