"""Where the scripts find Redis ($REDIS_URL), and the clients they share.

The default is Node's ``redis.createClient()`` address. RQ reads bytes, so
its clients never decode replies; the lessons' own clients decode to str.
"""
import functools
import os
import socket
import sys
import urllib.parse

import redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# How long the plain-text look at a rediss:// server may take, in seconds.
PROBE_TIMEOUT = 2


def redis_url() -> str:
    """Return $REDIS_URL or the default, refusing mistakes in plain words.

    redis-py would take them quietly or report them unclearly: a password
    cut short, a database not a number (db 0 to it), TLS to a plain server.
    """
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    parts = urllib.parse.urlsplit(url)
    if url.startswith(("redis://", "rediss://")):
        refuse_a_password_cut_short(url, parts)
    database = parts.path.strip("/")
    if url.startswith("redis") and database and not database.isdigit():
        raise redis.RedisError(f"the database of REDIS_URL must be a number, "
                               f"not {database!r}")
    if parts.scheme == "rediss":
        refuse_a_server_without_tls(parts)
    return url


def refuse_a_password_cut_short(
        url: str, parts: urllib.parse.SplitResult) -> None:
    """Raise RedisError if a '/', '?' or '#' in URL's password cut it short.

    The rest would be read as the database, query or fragment, where an '@'
    has no place; an '@' in the password is fine, as the last '@' ends it.
    """
    names = urllib.parse.parse_qs(parts.query, keep_blank_values=True)
    if not any("@" in text for text in [parts.path, parts.fragment, *names]):
        return
    mark = url[len(f"{parts.scheme}://{parts.netloc}")]
    part = "password" if ":" in parts.netloc else "user name"
    raise redis.RedisError(
        f"a {mark!r} in the {part} of REDIS_URL must be percent-encoded, as "
        f"{urllib.parse.quote(mark, safe='')}")


def refuse_a_server_without_tls(parts: urllib.parse.SplitResult) -> None:
    """Raise RedisError if the rediss:// address PARTS answers in plain text.

    Plain Redis waits out a TLS handshake, and redis-py then says only
    "Timeout"; the price is a connection a TLS server logs as failed.
    """
    try:
        host, port = parts.hostname or "localhost", parts.port or 6379
    except ValueError:
        return  # no port number: redis-py says so
    if answers_in_plain_text(host, port):
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise redis.RedisError(f"{address} does not speak TLS: try redis:// "
                               "instead of rediss:// in REDIS_URL")


@functools.cache
def answers_in_plain_text(host: str, port: int) -> bool:
    """Tell whether HOST:PORT answers a plain PING as Redis does: + or -.

    A TLS server hangs up; anything in doubt is left to redis-py to report.
    """
    try:
        with socket.create_connection((host, port),
                                      timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")
            first = sock.recv(1)
    except OSError:
        return False
    return first in (b"+", b"-")


# A web server runs a thread per request; past this many at once, requests
# wait (POOL_WAIT s) where redis-py's default pool would fail them.
POOL_SIZE = 50
POOL_WAIT = 20


def client(decode_responses: bool = True) -> redis.Redis:
    """Return a new client for $REDIS_URL (RQ needs decode_responses off)."""
    pool = redis.BlockingConnectionPool.from_url(
        redis_url(), decode_responses=decode_responses,
        max_connections=POOL_SIZE, timeout=POOL_WAIT)
    return redis.Redis(connection_pool=pool)


def ping(client: redis.Redis, tries: int = 3) -> None:
    """PING CLIENT's server; a new connection it drops at once is retried."""
    for tries_left in range(tries - 1, -1, -1):
        try:
            client.ping()
            return
        except redis.ConnectionError:
            if not tries_left:
                raise


@functools.cache
def default_client() -> redis.Redis:
    """Return the shared str client lesson functions use when given none."""
    return client()


@functools.cache
def warn_if_evicting(connection: redis.Redis) -> None:
    """Say once, on stderr, if Redis may evict keys: jobs and ids would go.

    A full Redis would delete queued jobs, the id counter (ids then repeat)
    and stock counts under any maxmemory-policy but noeviction.
    """
    try:
        reply = connection.config_get("maxmemory-policy")
    except redis.RedisError:
        return  # not allowed to look (ACL), or Redis away: nothing to say
    policy = next(iter(reply.values()), b"noeviction")
    policy = policy.decode() if isinstance(policy, bytes) else policy
    if policy != "noeviction":
        print(f"Warning: Redis's maxmemory-policy is {policy}: it may evict "
              "jobs and counters; set it to noeviction", file=sys.stderr)
