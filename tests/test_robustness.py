"""The robustness sweep: no Redis, Redis going away, signals, bad input.

Whatever happens, a script prints a clear line and exits (or recovers),
a web app answers JSON, and no traceback ever reaches the terminal.
"""
import importlib
import signal
from pathlib import Path

import fakeredis
import pytest
import redis
from rq import Queue

from helpers import (ON_THE_CHANNEL, Script, free_port, http_get,
                     redis_server_binaries, run_script, start_redis_server,
                     stop_redis_server, unavailable, wait_for_http,
                     wait_until)

NOT_CONNECTED = "Redis client not connected to the server: Error 111 "


class RestartableRedis:
    """A private redis-server that a test can stop and start again."""

    def __init__(self, directory: Path) -> None:
        """Start it on a free port that it keeps across restarts."""
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.start()

    def start(self) -> None:
        """Start the server (again)."""
        self.process, _ = start_redis_server(self.directory, port=self.port)

    def stop(self) -> None:
        """Stop the server."""
        stop_redis_server(self.process)

    def client(self) -> redis.Redis:
        """Return a decoding client on it."""
        return redis.Redis.from_url(self.url, decode_responses=True)


@pytest.fixture
def own_redis(tmp_path):
    """Yield a private Redis of the test's own, stopped afterwards."""
    if not redis_server_binaries():
        unavailable("no redis-server to start")
    server = RestartableRedis(tmp_path)
    yield server
    server.stop()


@pytest.mark.parametrize("name", [
    "0-redis_client.py", "1-redis_op.py", "2-redis_op_async.py",
    "4-redis_advanced_op.py", "5-subscriber.py", "5-publisher.py",
    "6-job_creator.py", "6-job_processor.py", "7-job_creator.py",
    "7-job_processor.py", "8-job.py", "100-seat.py"])
def test_without_redis_a_script_says_so_and_exits_1(closed_url, name):
    result = run_script(name, closed_url)
    assert (result.returncode, result.stderr) == (1, ""), result
    assert result.stdout.startswith(NOT_CONNECTED), result.stdout
    assert result.stdout.count("\n") == 1


def test_the_stock_api_answers_503_until_redis_comes_then_recovers(
        own_redis):
    own_redis.stop()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Script("9-stock.py", own_redis.url, PORT=str(port))
    try:
        wait_for_http(url + "/list_products", server)
        assert http_get(url + "/list_products/1") == (
            503, "application/json", b'{"error":"Redis unavailable"}')
        own_redis.start()
        assert http_get(url + "/list_products/1")[0] == 200
        own_redis.stop()
        assert http_get(url + "/reserve_product/1")[0] == 503
        own_redis.start()
        assert http_get(url + "/reserve_product/1")[2] == (
            b'{"status":"Reservation confirmed","itemId":1}')
        code, _, err = server.stop(signal.SIGTERM)
        assert code == 0 and "Traceback" not in err
    finally:
        server.kill()


def test_the_seat_api_answers_json_while_redis_is_away(own_redis):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = Script("100-seat.py", own_redis.url, PORT=str(port))
    try:
        wait_for_http(url + "/available_seats", server)
        assert http_get(url + "/reserve_seat")[2] == (
            b'{"status":"Reservation in process"}')
        own_redis.stop()
        assert http_get(url + "/reserve_seat") == (
            503, "application/json", b'{"status":"Reservation failed"}')
        assert http_get(url + "/available_seats")[0] == 503
        own_redis.start()  # empty: no seats were ever set on it
        assert http_get(url + "/available_seats")[2] == (
            b'{"numberOfAvailableSeats":null}')
        code, _, err = server.stop(signal.SIGTERM)
        assert code == 0 and "Traceback" not in err, err
    finally:
        server.kill()


def test_a_processor_reports_a_lost_redis_on_one_line_and_recovers(
        own_redis):
    processor = Script("7-job_processor.py", own_redis.url)
    try:
        client = own_redis.client()
        wait_until(lambda: client.scard(
            "rq:workers:push_notification_code_2") == 2, message="workers")
        own_redis.stop()
        # A worker's connection first tries again for about 8 s
        # (queuing.worker.RECONNECTING), longer on a loaded machine; then
        # RQ's line says "could not connect to Redis instance: ...", or the
        # worker stops on the error ("Worker stopped on a Redis error: ...")
        # and the pool starts another, by where in its loop it was.
        wait_until(lambda: "Connection refused" in "".join(
            processor.streams["err"]), timeout=40,
            message=lambda: "the processor to notice; its stderr: "
            + repr("".join(processor.streams["err"])))
        own_redis.start()
        result = run_script("7-job_creator.py", own_redis.url, timeout=60)
        # Two workers: the jobs end in any order, each exactly once.
        assert result.returncode == 0, result
        assert result.stdout.count(" completed\n") == 9, result.stdout
        assert result.stdout.count(" failed: ") == 2, result.stdout
        code, out, err = processor.stop(signal.SIGTERM)
        assert code == 0 and out.count("Sending notification") == 9
        assert "Traceback" not in err
        assert all(line.startswith("rq: ") for line in err.splitlines())
    finally:
        processor.kill()


@pytest.mark.parametrize("name, ready", [
    ("5-subscriber.py",
     lambda client: client.pubsub_numsub("holberton school channel")[0][1]),
    # The creator first waits out queuing.events.RECONNECT_WINDOW (10 s).
    pytest.param(
        "6-job_creator.py",
        lambda client: client.llen("rq:queue:push_notification_code"),
        marks=pytest.mark.slow),
])
def test_a_waiting_script_ends_on_one_line_when_redis_goes(
        own_redis, name, ready):
    script = Script(name, own_redis.url)
    try:
        wait_until(lambda: ready(own_redis.client()), message=name)
        own_redis.stop()
        code, _, err = script.wait(timeout=30)
        assert code == 1 and err.startswith("Redis error: "), err
        assert err.count("\n") == 1
    finally:
        script.kill()


def ready_when(name: str, url: str, port: int):
    """Return a check that tells when script NAME is ready for a signal."""
    client = redis.Redis.from_url(url)
    checks = {
        "5-subscriber.py": lambda: client.pubsub_numsub(
            "holberton school channel")[0][1] == 1,
        "6-job_processor.py": lambda: client.scard(
            "rq:workers:push_notification_code") == 1,
        "7-job_processor.py": lambda: client.scard(
            "rq:workers:push_notification_code_2") == 2,
        "6-job_creator.py": lambda: client.llen(
            "rq:queue:push_notification_code") == 1,
        "7-job_creator.py": lambda: client.llen(
            "rq:queue:push_notification_code_2") == 11,
    }
    return checks.get(name)


# What each long-running script has printed when it is ready to be stopped,
# and all it prints on stdout when a learner stops it then.
STOPPED_OUTPUT = {
    "5-subscriber.py": "Redis client connected to the server\n",
    "6-job_creator.py": "Notification job created: 1\n",
    "7-job_creator.py": "".join(
        f"Notification job created: {n}\n" for n in range(1, 12)),
}
# A server is ready once a route that reads Redis answers; its stderr
# carries the dev server's log lines.
SERVERS = {"9-stock.py": "/list_products/1", "100-seat.py": "/available_seats"}


@pytest.mark.parametrize("signal_number, group", [
    (signal.SIGINT, True), (signal.SIGTERM, False)],
    ids=["ctrl-c", "sigterm"])
@pytest.mark.parametrize("name", [
    pytest.param("5-subscriber.py", marks=ON_THE_CHANNEL),
    "6-job_processor.py", "7-job_processor.py",
    "6-job_creator.py", "7-job_creator.py", "9-stock.py", "100-seat.py"])
def test_every_long_running_script_stops_cleanly(
        real_redis, name, signal_number, group):
    port = free_port()
    script = Script(name, real_redis, PORT=str(port))
    expected = STOPPED_OUTPUT.get(name, "")
    try:
        check = ready_when(name, real_redis, port)
        if check:
            # A creator queues its job just before it prints the job's line:
            # a stop in between would hide the line, so wait for both.
            wait_until(lambda: check() and script.output() == expected,
                       message=f"{name} to be ready")
        else:
            wait_for_http(f"http://127.0.0.1:{port}{SERVERS[name]}", script)
        code, out, err = script.stop(signal_number, group=group)
        assert (code, out) == (0, expected), err
        if name in SERVERS:
            assert "Traceback" not in err, err
        else:
            assert err == ""
    finally:
        script.kill()


redis_op = importlib.import_module("1-redis_op")
publisher = importlib.import_module("5-publisher")
stock = importlib.import_module("9-stock")
seat = importlib.import_module("100-seat")


@pytest.mark.parametrize("call", [
    lambda client: redis_op.set_new_school(None, "100", client),
    lambda client: redis_op.set_new_school("Holberton", None, client),
    lambda client: redis_op.display_school_value(None, client),
], ids=["no school name", "no value", "display no name"])
def test_the_basic_functions_refuse_none_before_writing(client, call):
    with pytest.raises(redis.DataError):
        call(client)
    assert client.keys("*") == []


@pytest.mark.parametrize("time", [-1, "100", None, True, float("nan")])
def test_publish_message_refuses_a_time_that_is_no_delay(client, time):
    with pytest.raises(ValueError, match="^time must be milliseconds >= 0"):
        publisher.publish_message("hello", time, client)


@pytest.mark.parametrize("value", [-1, "3", 2.5, None, True])
@pytest.mark.parametrize("call", [
    lambda value, client: stock.reserve_stock_by_id(1, value, client),
    lambda value, client: seat.reserve_seat(value, client),
], ids=["reserve_stock_by_id", "reserve_seat"])
def test_counts_must_be_whole_numbers_of_0_or_more(client, call, value):
    with pytest.raises(ValueError, match="must be a whole number >= 0"):
        call(value, client)
    assert client.keys("*") == []


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/reserve_seat/1", 404), ("GET", "/available_seats/", 404),
    ("POST", "/reserve_seat", 405), ("DELETE", "/process", 405),
    ("GET", "/", 404)])
def test_the_seat_api_answers_json_to_malformed_requests(
        connection, method, path, status):
    app = seat.create_app(connection)
    response = app.test_client().open(path, method=method)
    assert (response.status_code, response.content_type) == (
        status, "application/json")
    assert response.get_data().startswith(b'{"error":')
    assert connection.keys("*") == []


def test_a_redis_that_may_evict_keys_is_named_in_one_line(
        own_redis_server_url):
    with redis.Redis.from_url(own_redis_server_url) as client:
        client.config_set("maxmemory-policy", "allkeys-lru")
        try:
            result = run_script("8-job.py", own_redis_server_url)
        finally:
            client.config_set("maxmemory-policy", "noeviction")
    assert (result.returncode, result.stdout) == (
        0, "Notification job created: 1\n"), result
    assert result.stderr == (
        "Warning: Redis's maxmemory-policy is allkeys-lru: it may evict jobs "
        "and counters; set it to noeviction\n")


def test_a_batch_with_a_job_that_cannot_be_stored_queues_none(capsys):
    job_module = importlib.import_module("8-job")
    connection = fakeredis.FakeRedis()
    queue = Queue("push_notification_code_3", connection=connection)
    jobs = [{"phoneNumber": "4153518780", "message": "one"},
            {"phoneNumber": "4153518781", "message": "two"},
            {"phoneNumber": "4153518743", "message": b"bytes"}]
    with pytest.raises(ValueError) as raised:
        job_module.create_push_notifications_jobs(jobs, queue)
    assert str(raised.value) == (
        "Job 2 cannot be stored as JSON: Object of type bytes is not JSON "
        "serializable")
    assert (queue.count, connection.get("kue:ids")) == (0, None)
    assert capsys.readouterr().out == ""
