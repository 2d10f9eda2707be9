"""Task 13: 100-seat.py reserves 50 seats through the reserve_seat queue."""
import importlib
import signal
from concurrent.futures import ThreadPoolExecutor

import fakeredis
import pytest
import redis
from rq import Queue
from rq.serializers import JSONSerializer

from queuing import events, kue
from queuing.worker import ThreadWorker

from helpers import (Script, http_get, printed_lines, start_seat_server,
                     wait_until)

seat = importlib.import_module("100-seat")

SEATS_50 = b'{"numberOfAvailableSeats":"50"}'
IN_PROCESS = b'{"status":"Reservation in process"}'
BLOCKED = b'{"status":"Reservation are blocked"}'


# Seconds the app's job watcher and worker wait, here, before they look
# whether they were closed: each close waits for one such wait.
CLOSE_CHECK = 0.02


@pytest.fixture
def quick_close(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the app's watcher and worker see a close within CLOSE_CHECK.

    They wait for events and jobs a slice at a time (a quarter of a second
    by default); a shorter slice only makes them look for a close sooner.
    """
    monkeypatch.setattr(kue, "WATCHER_BLOCK", int(CLOSE_CHECK * 1000))
    monkeypatch.setattr(ThreadWorker, "wait_slice", CLOSE_CHECK)


@pytest.fixture
def app(connection, quick_close):
    """Yield the app on the backend under test, launched (50 seats, open)."""
    seat.open_reservations(connection)
    application = seat.create_app(connection)
    yield application
    close(application)


def close(application) -> None:
    """Stop the app's job watcher and worker, and check that they ended."""
    watcher, worker = application.extensions["seat_reservations"]
    # Each sees a close between two waits of its own: closed together, the
    # test waits for one wait, not two.
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda part: part.close(), (watcher, worker)))
    # A worker thread left running would take the next test's jobs.
    assert not any(thread and thread.is_alive() for thread in (
        worker.thread, watcher.thread)), "threads still run"


@pytest.fixture
def http(app):
    """Return a Flask test client of the launched app."""
    return app.test_client()


def test_available_seats_is_50_as_a_string(http):
    response = http.get("/available_seats")
    assert (response.status_code, response.content_type,
            response.get_data()) == (200, "application/json", SEATS_50)


def test_reserve_seat_queues_a_json_job_on_reserve_seat(http, connection):
    response = http.get("/reserve_seat")
    assert response.get_data() == IN_PROCESS
    queue = Queue("reserve_seat", connection=connection,
                  serializer=JSONSerializer)
    assert queue.job_ids == ["1"]
    assert queue.jobs[0].func_name == "100-seat.reserve_a_seat"


def test_reserve_seat_is_blocked_when_reservations_are_off(
        http, connection):
    connection.set("reservation_enabled", "0")
    assert http.get("/reserve_seat").get_data() == BLOCKED
    assert connection.llen("rq:queue:reserve_seat") == 0


def test_process_answers_at_once_and_starts_one_worker(app):
    http = app.test_client()
    _, worker = app.extensions["seat_reservations"]
    assert http.get("/process").get_data() == b'{"status":"Queue processing"}'
    first = worker.thread
    assert http.get("/process").get_data() == b'{"status":"Queue processing"}'
    assert worker.thread is first and first.is_alive()


def test_processing_takes_one_seat_per_job_and_prints_each_end(
        http, connection, capsys):
    http.get("/process")
    for _ in range(3):
        assert http.get("/reserve_seat").get_data() == IN_PROCESS
    lines = printed_lines(capsys, 3, "completed lines")
    assert sorted(lines) == [f"Seat reservation job {n} completed"
                             for n in (1, 2, 3)]
    assert http.get("/available_seats").get_data() == (
        b'{"numberOfAvailableSeats":"47"}')


class Job:
    """Just enough of an RQ job for reserve_a_seat: its id and connection."""

    def __init__(self, connection: redis.Redis, job_id: str = "1") -> None:
        """Remember the connection and the id."""
        self.connection = connection
        self.id = job_id


def test_the_last_seat_turns_reservations_off(connection, monkeypatch):
    monkeypatch.setattr(seat, "get_current_job", lambda: Job(connection))
    seat.open_reservations(connection)
    seat.reserve_seat(1, connection)
    assert seat.reserve_a_seat({}) == 0
    assert connection.get("available_seats") == b"0"
    assert not seat.reservation_enabled(connection)


def test_no_seat_left_fails_the_job_and_the_count_stays_0(
        connection, monkeypatch):
    monkeypatch.setattr(seat, "get_current_job", lambda: Job(connection))
    seat.reserve_seat(0, connection)
    with pytest.raises(RuntimeError, match="^Not enough seats available$"):
        seat.reserve_a_seat({})
    assert seat.get_current_available_seats(connection) == "0"


def test_a_job_run_again_takes_no_second_seat(connection, monkeypatch):
    jobs = iter([Job(connection, "7"), Job(connection, "7"),
                 Job(connection, "8")])
    monkeypatch.setattr(seat, "get_current_job", lambda: next(jobs))
    seat.open_reservations(connection)
    assert [seat.reserve_a_seat({}) for _ in range(3)] == [49, 49, 48]
    assert connection.get("available_seats") == b"48"
    assert 0 < connection.ttl("reserve_seat:taken:7") <= 86400


def test_redis_down_answers_json(capsys, monkeypatch, quick_close):
    # A fake's lost link looks dropped, not refused: it is tried again for
    # RECONNECT_WINDOW seconds (a stopped real Redis fails at once).
    monkeypatch.setattr(events, "RECONNECT_WINDOW", 0.1)
    server = fakeredis.FakeServer()
    connection = fakeredis.FakeRedis(server=server)
    seat.open_reservations(connection)
    app = seat.create_app(connection)
    http = app.test_client()
    server.connected = False
    reserve = http.get("/reserve_seat")
    assert (reserve.status_code, reserve.get_data()) == (
        503, b'{"status":"Reservation failed"}')
    seats = http.get("/available_seats")
    assert (seats.status_code, seats.get_data()) == (
        503, b'{"error":"Redis unavailable"}')
    assert "Traceback" not in capsys.readouterr().err
    close(app)


# More reservations at once than the 50 seats: the last seat closes them.
RESERVATIONS = 60


def reserve_many(url: str) -> list[bytes]:
    """Send RESERVATIONS concurrent /reserve_seat requests; return bodies."""
    with ThreadPoolExecutor(max_workers=40) as pool:
        return list(pool.map(lambda _: http_get(url + "/reserve_seat")[2],
                             range(RESERVATIONS)))


def ended(output: str) -> tuple[list[str], list[str]]:
    """Return the completed and the failed lines of a server's OUTPUT."""
    lines = output.splitlines()
    return ([line for line in lines if line.startswith("Seat reservation")
             and line.endswith(" completed")],
            [line for line in lines if line.startswith("Seat reservation")
             and " failed: " in line])


def check_seat_run(url: str, server: Script, real_client) -> None:
    """Run /process and the reservations; check that 50 seats were taken."""
    assert http_get(url + "/process")[2] == b'{"status":"Queue processing"}'
    bodies = reserve_many(url)
    assert set(bodies) <= {IN_PROCESS, BLOCKED}, set(bodies)
    queued = bodies.count(IN_PROCESS)
    assert queued >= 50

    def all_printed() -> bool:
        completed, failed = ended(server.output())
        return len(completed) + len(failed) >= queued

    wait_until(all_printed, timeout=60, message=(
        f"{queued} jobs to end; the server printed: "
        + repr(server.output()[-3000:])
        + repr("".join(server.streams["err"])[-3000:])))
    completed, failed = ended(server.output())
    assert len(completed) == 50
    assert failed == [line for line in failed
                      if line.endswith(" failed: Not enough seats available")]
    assert real_client.get("available_seats") == "0"
    assert http_get(url + "/available_seats")[2] == (
        b'{"numberOfAvailableSeats":"0"}')
    assert http_get(url + "/reserve_seat")[2] == BLOCKED


@pytest.fixture
def seat_server(real_redis):
    """Yield ./100-seat.py serving on a free port, and its base URL.

    tests/test_production.py runs the test below again on gunicorn.
    """
    server, url = start_seat_server("script", real_redis)
    yield server, url
    server.kill()


def test_concurrent_reservations_take_exactly_50_seats(seat_server,
                                                       real_client):
    server, url = seat_server
    assert real_client.get("available_seats") == "50"
    assert http_get(url + "/available_seats") == (
        200, "application/json", SEATS_50)
    check_seat_run(url, server, real_client)
    code, _, err = server.stop(signal.SIGTERM)
    assert code == 0 and "Traceback" not in err, err
    # Stopped, its worker is gone from RQ's lists (rq info), not left to
    # expire there.
    assert real_client.smembers("rq:workers:reserve_seat") == set()
