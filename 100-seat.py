#!/usr/bin/env python3
"""Task 13: reserve seats through a job queue.

The Node original, 100-seat.js, was an Express app on port 1245: launching
it set 50 available seats in Redis and enabled reservations;
/reserve_seat queued a Kue job, /process started processing the queue, each
job took one seat and the last one turned reservations off. Here the app is
Flask, the queue is RQ's reserve_seat, and what the original kept in process
variables lives in Redis, so that several server processes agree:

- available_seats (STRING) is the number of seats left;
- reservation_enabled (STRING) is "1" while reservations are open.

Taking a seat is one Lua script, run atomically by Redis: the count never
goes below 0, and exactly 50 reservations succeed whatever the concurrency.
The server that queued a job prints how it ended, whichever process ran it
(through the job events of 6-job_creator.py). Serve it with the script, or:

    flask --app '100-seat:create_app()' init-seats
    gunicorn -w 2 -k gthread -b 127.0.0.1:1245 '100-seat:create_app()'
"""
import sys
import threading
from pathlib import Path
from typing import Any

import redis
from flask import Flask, Response
from rq import SimpleWorker, get_current_job
from rq.serializers import JSONSerializer
from rq.timeouts import TimerDeathPenalty

redis_client = __import__("0-redis_client")
kue = __import__("6-job_creator")
stock = __import__("9-stock")
processor = __import__("6-job_processor")

QUEUE_NAME = "reserve_seat"
JOB_FUNCTION = f"{Path(__file__).stem}.reserve_a_seat"
SEATS_KEY = "available_seats"
ENABLED_KEY = "reservation_enabled"
INITIAL_SEATS = 50
# KEYS: available_seats, reservation_enabled. Returns the seats left after
# taking one (closing reservations at 0), or -1 when there was none.
TAKE_SEAT_SCRIPT = """
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left < 1 then
    return -1
end
left = left - 1
redis.call('SET', KEYS[1], left)
if left == 0 then
    redis.call('SET', KEYS[2], '0')
end
return left
"""


def reserve_seat(number: int, client: redis.Redis | None = None) -> None:
    """Set the number of available seats to NUMBER (a whole number >= 0)."""
    stock.check_count("number", number)
    client = client or redis_client.default_client()
    client.set(SEATS_KEY, number)


def get_current_available_seats(client: redis.Redis | None = None
                                ) -> str | None:
    """Return the number of available seats, as Redis holds it (a string)."""
    client = client or redis_client.default_client()
    seats = client.get(SEATS_KEY)
    return seats.decode() if isinstance(seats, bytes) else seats


def open_reservations(client: redis.Redis) -> None:
    """Set 50 available seats and enable reservations, as a launch does."""
    with client.pipeline() as pipeline:
        pipeline.set(SEATS_KEY, INITIAL_SEATS)
        pipeline.set(ENABLED_KEY, "1")
        pipeline.execute()


def reservation_enabled(client: redis.Redis) -> bool:
    """Tell whether reservations are open."""
    return client.get(ENABLED_KEY) in ("1", b"1")


def reserve_a_seat(data: dict) -> int:
    """Take one seat (the job RQ runs, with the job's empty data).

    Return the seats left; the job fails with "Not enough seats available"
    when none is left.
    """
    connection = get_current_job().connection
    take_seat = connection.register_script(TAKE_SEAT_SCRIPT)
    left = take_seat(keys=[SEATS_KEY, ENABLED_KEY])
    if left < 0:
        raise RuntimeError("Not enough seats available")
    return left


class ThreadWorker(SimpleWorker):
    """An RQ worker that runs in a thread of the web server.

    Signal handlers can only be installed by the main thread, which belongs
    to the server, so job timeouts use a timer instead of SIGALRM, and the
    worker stops when its STOPPING event is set, within a second.
    """

    death_penalty_class = TimerDeathPenalty

    def __init__(self, *args: Any, stopping: threading.Event,
                 **kwargs: Any) -> None:
        """Make an RQ SimpleWorker that ends once STOPPING is set."""
        super().__init__(*args, **kwargs)
        self.stopping = stopping

    def _install_signal_handlers(self) -> None:
        """Leave signals to the server."""

    def dequeue_job_and_maintain_ttl(self, timeout: int | None,
                                     max_idle_time: int | None = None
                                     ) -> Any:
        """Wait for a job a second at a time; None (stop) once stopping."""
        while not self.stopping.is_set():
            result = super().dequeue_job_and_maintain_ttl(1, 1)
            if result is not None:
                return result
        return None


class SeatReservations:
    """One server process's side of the queue: its jobs and its worker."""

    def __init__(self, connection: redis.Redis) -> None:
        """Prepare to queue reserve_seat jobs on CONNECTION."""
        self.connection = connection
        self.queue = kue.queue_for(QUEUE_NAME, connection)
        self.job_ids: set[str] = set()
        self.lock = threading.Lock()
        self.listener: threading.Thread | None = None
        self.worker: threading.Thread | None = None
        self.stopping = threading.Event()

    def queue_reservation(self) -> str:
        """Queue one reservation job and return its id."""
        with self.lock:
            if self.listener is None:
                since = kue.last_event_id(self.connection, QUEUE_NAME)
                self.listener = self.start(self.print_results, since)
        job_id = kue.new_job_id(self.connection)
        # Known before it is queued, so that no event of it is skipped.
        self.job_ids.add(job_id)
        try:
            kue.create_job(self.queue, JOB_FUNCTION, {}, job_id=job_id)
        except redis.RedisError:
            self.job_ids.discard(job_id)
            raise
        return job_id

    def print_results(self, since: str) -> None:
        """Print how each job this process queued ended, as it ends.

        Redis going away is reported, and reading resumes where it stopped.
        """
        while not self.stopping.is_set():
            try:
                for entry in kue.read_events(self.connection, QUEUE_NAME,
                                             since):
                    if self.stopping.is_set():
                        return
                    if entry is None:
                        continue
                    since, event = entry
                    if event.job_id not in self.job_ids:
                        continue
                    # flush: under a WSGI server, nothing promises that
                    # stdout is line-buffered.
                    if event.event == "complete":
                        print(f"Seat reservation job {event.job_id} "
                              "completed", flush=True)
                        self.job_ids.discard(event.job_id)
                    elif event.event == "failed":
                        print(f"Seat reservation job {event.job_id} failed: "
                              f"{event.value}", flush=True)
                        self.job_ids.discard(event.job_id)
            except redis.RedisError as error:
                print(f"Redis error: {error}; retrying", file=sys.stderr)
                self.stopping.wait(1)

    def process(self) -> None:
        """Start processing the queue in this process, once."""
        with self.lock:
            if self.worker is None:
                self.worker = self.start(self.work)

    def work(self) -> None:
        """Run a worker on the queue until the process ends."""
        level = processor.setup_logging()
        ThreadWorker([self.queue], connection=self.connection,
                     serializer=JSONSerializer, stopping=self.stopping
                     ).work(logging_level=level)

    def start(self, target: object, *args: object) -> threading.Thread:
        """Start TARGET(*ARGS) in a daemon thread and return it."""
        thread = threading.Thread(target=target, args=args, daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Stop the listener and the worker, waiting for them a little."""
        self.stopping.set()
        for thread in (self.listener, self.worker):
            if thread is not None:
                thread.join(timeout=10)


def create_app(connection: redis.Redis | None = None) -> Flask:
    """Build the seat reservation app on CONNECTION (default: $REDIS_URL).

    CONNECTION must not decode responses: RQ reads bytes.
    """
    app = Flask(__name__)
    connection = connection or redis.Redis.from_url(redis_client.redis_url())
    reservations = SeatReservations(connection)
    app.extensions["seat_reservations"] = reservations
    stock.handle_errors(app)
    json_response = stock.json_response

    @app.cli.command("init-seats")
    def init_seats() -> None:
        """Set 50 available seats and enable reservations."""
        open_reservations(connection)

    @app.get("/available_seats")
    def available_seats() -> Response:
        """Show the number of available seats (a string, as the original)."""
        return json_response(
            {"numberOfAvailableSeats": get_current_available_seats(
                connection)})

    @app.get("/reserve_seat")
    def reserve() -> Response:
        """Queue a seat reservation while reservations are open."""
        try:
            if not reservation_enabled(connection):
                return json_response({"status": "Reservation are blocked"})
            reservations.queue_reservation()
        except redis.RedisError as error:
            print(f"Redis error: {error}", file=sys.stderr)
            return json_response({"status": "Reservation failed"}, 503)
        return json_response({"status": "Reservation in process"})

    @app.get("/process")
    def process() -> Response:
        """Start processing the queue in the background; answer at once."""
        reservations.process()
        return json_response({"status": "Queue processing"})

    return app


def main() -> None:
    """Open 50 seats, then serve the app."""
    connection = redis_client.connect(decode_responses=False, announce=False)
    open_reservations(connection)
    stock.serve(create_app(connection))


if __name__ == "__main__":
    redis_client.run(main)
