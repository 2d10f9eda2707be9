"""docs/production.md: the apps on granian and gunicorn, seat jobs in rq.

The task files test the scripts as a learner runs them; this file runs
their HTTP tests again on the production servers the docs show, with the
docs' commands, and seat jobs in plain RQ workers.
"""
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from helpers import (ROOT, printed_lines, script_env, serve,
                     start_seat_server)
# The task files' tests, collected again here, on this file's servers: the
# fixtures below replace the ones that serve the scripts.
from test_100_seat import (  # noqa: F401
    IN_PROCESS, close, quick_close, seat,
    test_concurrent_reservations_take_exactly_50_seats)
from test_9_stock import (  # noqa: F401
    server, test_concurrent_reservations_confirm_exactly_the_stock,
    test_the_server_answers_like_curl_expects)

# docs/production.md's commands for 9-stock, on a free port.
STOCK_SERVERS = {
    "granian": lambda port: [
        sys.executable, "-m", "granian", "--interface", "wsgi", "--workers",
        "2", "--blocking-threads", "1", "--workers-kill-timeout", "3",
        "--host", "127.0.0.1", "--port", str(port), "--factory",
        "9-stock:create_app"],
    "gunicorn": lambda port: [
        sys.executable, "-m", "gunicorn", "--no-control-socket", "-w", "2",
        "-k", "gthread", "--threads", "8", "-b", f"127.0.0.1:{port}",
        "9-stock:create_app()"],
}


@pytest.fixture(scope="module", params=list(STOCK_SERVERS))
def started(real_redis_url, request):
    """Serve 9-stock's app on one of STOCK_SERVERS for the whole module.

    It is killed at the end: the shutdown of gunicorn and granian is
    theirs (granian's can hang when stopped under load).
    """
    script, url = serve("9-stock.py", real_redis_url,
                        STOCK_SERVERS[request.param], "/list_products")
    yield url, script
    script.kill()


@pytest.fixture
def seat_server(real_redis):
    """Yield 100-seat's app on gunicorn (two processes), and its URL."""
    server, url = start_seat_server("gunicorn -w 2", real_redis)
    yield server, url
    server.kill()


def test_jobs_run_by_external_rq_workers_are_reported_by_the_server(
        real_redis, real_client, capsys, quick_close):
    connection = redis.Redis.from_url(real_redis)
    seat.open_reservations(connection)
    app = seat.create_app(connection)
    http = app.test_client()
    try:
        for _ in range(3):
            assert http.get("/reserve_seat").get_data() == IN_PROCESS
        # Two workers at once, each taking what the other left.
        with ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(lambda _: subprocess.run(
                ["rq", "worker", "--burst", "-S", "json", "reserve_seat"],
                cwd=ROOT, env=script_env(real_redis, RQ_REDIS_URL=real_redis),
                check=True, capture_output=True, timeout=60), range(2)))
        lines = printed_lines(capsys, 3, "completed lines")
        assert sorted(lines) == [f"Seat reservation job {n} completed"
                                 for n in (1, 2, 3)]
        assert real_client.get("available_seats") == "47"
    finally:
        close(app)
