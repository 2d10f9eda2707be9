"""Fixtures: a fresh fakeredis per test, and a real Redis server when any.

Backend-sensitive tests ask for ``backend``, which runs them twice: on
fakeredis, and on a real server. The real server is $REDIS_URL when it is set
and its database is empty (the tests flush it, so they never take a database
that holds somebody's data), otherwise a private redis-server started on a
free port for this session, otherwise those runs skip and say why, or,
with REQUIRE_REAL_REDIS=1 (CI sets it), fail.
"""
import gc
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlparse, urlunparse

import queuing  # only built-ins: safe outside the venv

try:
    import fakeredis
    import pytest
    import redis
    import redis.asyncio
except ModuleNotFoundError as missing:  # a pytest outside the venv
    raise SystemExit(f"Error: {missing}: {queuing.VENV_HINT}") from None

import queuing.connection

from helpers import (answers, free_port, hear_ctrl_c, redis_server_binaries,
                     start_redis_server, stop_redis_server, unavailable)


# Naming this many test files or fewer (a task's, say) runs them in one
# process: starting six test processes costs more than one file's tests.
FEW_FILES = 3


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """Run a few named test files in one process, unless -n says otherwise.

    pyproject.toml's -n 6 suits the whole suite; this runs before
    pytest-xdist reads it (a conftest's hook comes before a plugin's).
    """
    given = config.invocation_params.args
    if any(arg.startswith(("-n", "--numprocesses", "--dist", "-d"))
           for arg in given):
        return
    paths = [arg.split("::")[0] for arg in config.args]
    if paths and len(set(paths)) <= FEW_FILES and all(
            os.path.isfile(path) for path in paths):
        config.option.numprocesses = 0


def pytest_configure(config: pytest.Config) -> None:
    """Start the scripts as a terminal would, however pytest was started."""
    hear_ctrl_c()


def pytest_collection_finish(session: pytest.Session) -> None:
    """Leave what the imports made out of the garbage collector's scans.

    The libraries and test modules live until the end: scanning them in
    every full collection, and in the collections pytest runs at the end
    to report unraisable exceptions, costs a tenth of a second a run.
    What the tests make is collected as before.
    """
    gc.freeze()


def slow_selected(config: pytest.Config) -> bool:
    """Tell whether this run asked for the slow tests (-m slow, SLOW=1)."""
    expression = config.getoption("markexpr") or ""
    return os.environ.get("SLOW") == "1" or (
        "slow" in expression and "not slow" not in expression)


@pytest.fixture(autouse=True)
def skip_slow_unless_selected(request: pytest.FixtureRequest) -> None:
    """Skip a slow test (fault injection, long waits) unless selected."""
    if (request.node.get_closest_marker("slow")
            and not slow_selected(request.config)):
        pytest.skip("slow fault run: select it with -m slow or SLOW=1")


# Read once, before any fixture points REDIS_URL elsewhere.
USER_REDIS_URL = os.environ.get("REDIS_URL")
# Redis's default number of databases (0 to 15).
DATABASES = 16


def worker_database(url: str) -> str | None:
    """Return URL on this test process's own database, or None if none.

    Run in parallel (pytest-xdist), worker gwN takes database N + 1 of the
    same server, so that no two workers flush each other's keys.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    database = int(worker.removeprefix("gw")) + 1
    if database >= DATABASES:
        return None
    return urlunparse(urlparse(url)._replace(path=f"/{database}"))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run tests that ask for redis_server_binary on every server found."""
    if "redis_server_binary" in metafunc.fixturenames:
        metafunc.parametrize("redis_server_binary",
                             redis_server_binaries() or [None])


@pytest.fixture
def redis_server_binary(request: pytest.FixtureRequest) -> str:
    """Return a redis-server program, for tests that start their own."""
    if request.param is None:
        unavailable("no redis-server found (PATH, the venv, /usr/bin)")
    return request.param


@pytest.fixture(scope="session")
def real_redis_url(tmp_path_factory: pytest.TempPathFactory
                   ) -> Iterator[str]:
    """Yield the URL of a real Redis database that the tests may flush."""
    reasons = []
    url = USER_REDIS_URL and worker_database(USER_REDIS_URL)
    if url:
        if not answers(url):
            reasons.append(f"REDIS_URL={url} does not answer")
        elif redis.Redis.from_url(url).dbsize():
            reasons.append(f"REDIS_URL={url} holds data, which the tests "
                           "would flush")
        else:
            yield url
            return
    yield from private_redis_server(tmp_path_factory, reasons)


@pytest.fixture(scope="session")
def own_redis_server_url(tmp_path_factory: pytest.TempPathFactory
                         ) -> Iterator[str]:
    """Yield the URL of a redis-server that only this test process uses."""
    yield from private_redis_server(tmp_path_factory)


def private_redis_server(tmp_path_factory: pytest.TempPathFactory,
                         reasons: list[str] | None = None) -> Iterator[str]:
    """Start a private redis-server, yield its URL, then stop it.

    Without a redis-server, skip (or fail) saying why, REASONS first.
    """
    if not redis_server_binaries():
        unavailable("real Redis unavailable: " + "; ".join(
            [*(reasons or []),
             "no redis-server found (PATH, the venv, /usr/bin)"]))
    process, url = start_redis_server(tmp_path_factory.mktemp("redis"))
    yield url
    stop_redis_server(process)


@pytest.fixture
def real_redis(request: pytest.FixtureRequest) -> Iterator[str]:
    """Yield the real server's URL with its database empty, then empty it.

    Pub/sub channels belong to the server, not to a database: a test marked
    "channel" gets a server of its test process's own, which no other test
    process listens or publishes on.
    """
    url = request.getfixturevalue(
        "own_redis_server_url" if request.node.get_closest_marker("channel")
        else "real_redis_url")
    with redis.Redis.from_url(url) as client:
        client.flushdb()
        yield url
        client.flushdb()


@pytest.fixture
def closed_url() -> str:
    """Return a Redis URL on a port where nothing listens."""
    return f"redis://127.0.0.1:{free_port()}/0"


@dataclass
class Backend:
    """One Redis to test against: fakeredis, or a real server by URL."""

    name: str
    url: str | None = None
    server: fakeredis.FakeServer = field(default_factory=fakeredis.FakeServer)
    clients: list = field(default_factory=list)

    def client(self, decode_responses: bool = True) -> redis.Redis:
        """Return a sync client; RQ needs decode_responses=False."""
        if self.url:
            client = redis.Redis.from_url(
                self.url, decode_responses=decode_responses)
        else:
            client = fakeredis.FakeRedis(
                server=self.server, decode_responses=decode_responses)
        self.clients.append(client)
        return client

    def async_client(self) -> redis.asyncio.Redis:
        """Return an asyncio client on the same data; close it with aclose."""
        if self.url:
            return redis.asyncio.Redis.from_url(self.url,
                                                decode_responses=True)
        return fakeredis.FakeAsyncRedis(server=self.server,
                                        decode_responses=True)

    def close(self) -> None:
        """Close every sync client this backend handed out."""
        for client in self.clients:
            client.close()


@pytest.fixture(params=["fakeredis", "redis-server"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    """Yield each backend in turn, its database empty."""
    if request.param == "fakeredis":
        chosen = Backend("fakeredis")
    else:
        chosen = Backend("redis-server",
                         url=request.getfixturevalue("real_redis"))
    yield chosen
    chosen.close()


@pytest.fixture
def client(backend: Backend) -> redis.Redis:
    """Return a decoding client on the backend under test."""
    return backend.client()


@pytest.fixture(autouse=True)
def no_default_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep tests off whatever REDIS_URL the shell had (and its cache).

    A script function called without a client would use $REDIS_URL; here that
    points at a closed port, so such a call fails loudly instead of touching
    somebody's database.
    """
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    queuing.connection.default_client.cache_clear()


@pytest.fixture
def real_client(real_redis: str) -> Iterator[redis.Redis]:
    """Return a decoding client on the real server's (empty) database."""
    with redis.Redis.from_url(real_redis, decode_responses=True) as client:
        yield client


@pytest.fixture
def connection(backend: Backend) -> redis.Redis:
    """Return a bytes client on the backend under test, as RQ needs."""
    return backend.client(decode_responses=False)
