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
The server that queued a job prints how it ended, whichever process ran it.
Serve it with the script, or:

    flask --app '100-seat:create_app()' init-seats
    gunicorn -w 2 -k gthread -b 127.0.0.1:1245 '100-seat:create_app()'
"""
from queuing import cli, kue, workers  # first, for a quiet Ctrl-C

import sys

import redis
from flask import Flask, Response
from rq import get_current_job

from queuing.connection import client, default_client
from queuing.web import (action, check_count, json_errors, json_response,
                         listen)

connect = __import__("0-redis_client").connect

QUEUE_NAME = "reserve_seat"
SEATS_KEY = "available_seats"
ENABLED_KEY = "reservation_enabled"
INITIAL_SEATS = 50
# The seats left after job ID took one, kept a day: a job run again (its
# worker died, see queuing/recovery.py) takes no second seat.
TAKEN_KEY = "reserve_seat:taken:{job_id}"
# KEYS: available_seats, reservation_enabled, reserve_seat:taken:ID. Returns
# the seats left after taking one (closing reservations at 0), or -1 when
# there was none.
TAKE_SEAT_SCRIPT = """
local taken = redis.call('GET', KEYS[3])
if taken then return tonumber(taken) end
local left = tonumber(redis.call('GET', KEYS[1]) or '0')
if left < 1 then return -1 end
left = left - 1
redis.call('SET', KEYS[1], left)
redis.call('SET', KEYS[3], left, 'EX', 86400)
if left == 0 then redis.call('SET', KEYS[2], '0') end
return left
"""


def reserve_seat(number: int, client: redis.Redis | None = None) -> None:
    """Set the number of available seats to NUMBER (a whole number >= 0)."""
    check_count("number", number)
    client = client or default_client()
    client.set(SEATS_KEY, number)


def get_current_available_seats(client: redis.Redis | None = None
                                ) -> str | None:
    """Return the number of available seats, as Redis holds it (a string)."""
    client = client or default_client()
    seats = client.get(SEATS_KEY)
    return seats.decode() if isinstance(seats, bytes) else seats


def open_reservations(client: redis.Redis) -> None:
    """Set 50 available seats and enable reservations, as a launch does."""
    client.mset({SEATS_KEY: INITIAL_SEATS, ENABLED_KEY: "1"})


def reservation_enabled(client: redis.Redis) -> bool:
    """Tell whether reservations are open."""
    return client.get(ENABLED_KEY) in ("1", b"1")


def reserve_a_seat(data: dict) -> int:
    """Take one seat (the job RQ runs, with the job's empty data).

    Return the seats left; the job fails with "Not enough seats available"
    when none is left.
    """
    job = get_current_job()
    take_seat = job.connection.register_script(TAKE_SEAT_SCRIPT)
    left = take_seat(keys=[SEATS_KEY, ENABLED_KEY,
                           TAKEN_KEY.format(job_id=job.id)])
    if left < 0:
        raise RuntimeError("Not enough seats available")
    return left


def print_job_end(event: kue.JobEvent) -> None:
    """Print how a seat reservation job ended, as the original logged it."""
    # flush: under a WSGI server, stdout may not be line-buffered.
    if event.event == "complete":
        print(f"Seat reservation job {event.job_id} completed", flush=True)
    elif event.event == "failed":
        print(f"Seat reservation job {event.job_id} failed: {event.value}",
              flush=True)


def create_app(connection: redis.Redis | None = None) -> Flask:
    """Build the seat reservation app on CONNECTION (default: $REDIS_URL).

    CONNECTION must not decode responses: RQ reads bytes.
    """
    app = Flask(__name__)
    connection = connection or client(decode_responses=False)
    queue = kue.queue_for(QUEUE_NAME, connection)
    jobs = kue.JobWatcher(queue, on_event=print_job_end)
    worker = workers.BackgroundWorker(queue, reserve_a_seat)
    app.extensions["seat_reservations"] = (jobs, worker)
    json_errors(app)

    @app.cli.command("init-seats")
    @cli.one_line_errors
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
    @action
    def reserve() -> Response:
        """Queue a seat reservation while reservations are open."""
        try:
            # A read may be sent again if the connection dropped; the job
            # is created once whatever happens (see kue.create_job).
            if not kue.retried(reservation_enabled, connection):
                return json_response({"status": "Reservation are blocked"})
            jobs.create(reserve_a_seat, {})
        except redis.RedisError as error:
            print(cli.describe(error), file=sys.stderr)
            return json_response({"status": "Reservation failed"}, 503)
        return json_response({"status": "Reservation in process"})

    @app.get("/process")
    @action
    def process() -> Response:
        """Start processing the queue in the background; answer at once."""
        worker.start()
        return json_response({"status": "Queue processing"})

    return app


def main() -> None:
    """Take the port, open 50 seats, then serve the app.

    The port comes first: a second server started by mistake exits without
    resetting the seats of the one that serves.
    """
    connection = connect(decode_responses=False, announce=False)
    server = listen(create_app())
    open_reservations(connection)
    server.serve_forever()


if __name__ == "__main__":
    cli.run(main)
