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
PROBE_TIMEOUT = 2  # seconds for the plain-text look at a rediss:// server


def redis_url() -> str:
    """Return $REDIS_URL or the default, refusing mistakes in plain words.

    redis-py would take them quietly or report them unclearly: a password
    cut short, a database not a number (db 0 to it), TLS to a plain server,
    no scheme, a port not a number, an option it does not know.
    """
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    parts = urllib.parse.urlsplit(url)
    if url.startswith(("redis://", "rediss://")):
        refuse_a_password_cut_short(url, parts)
    database = parts.path.strip("/")
    if url.startswith("redis") and database and not database.isdigit():
        raise redis.RedisError(f"the database of REDIS_URL must be a number, "
                               f"not {database!r}")
    try:  # as redis-py builds a connection (no socket yet)
        redis.ConnectionPool.from_url(url).make_connection()
    except ValueError as error:  # redis-py's own words, as a RedisError
        raise redis.RedisError(str(error)) from None
    except TypeError as error:  # "... unexpected keyword argument 'foo'"
        raise redis.RedisError("REDIS_URL has an option redis-py does not "
                               f"know: {str(error).split()[-1]}") from None
    if parts.scheme == "rediss":
        refuse_a_server_without_tls(parts)
    return url


def refuse_a_password_cut_short(
        url: str, parts: urllib.parse.SplitResult) -> None:
    """Raise RedisError if a '/', '?' or '#' cut URL's password short.

    The rest would be read as database, query or fragment, holding an '@'.
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

    Plain Redis waits out a TLS handshake; redis-py then says "Timeout".
    """
    host, port = parts.hostname or "localhost", parts.port or 6379
    if answers_in_plain_text(host, port):
        address = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        raise redis.RedisError(f"{address} does not speak TLS: try redis:// "
                               "instead of rediss:// in REDIS_URL")


@functools.cache
def answers_in_plain_text(host: str, port: int) -> bool:
    """Tell whether HOST:PORT answers a plain PING as Redis does: + or -."""
    try:
        with socket.create_connection((host, port),
                                      timeout=PROBE_TIMEOUT) as sock:
            sock.sendall(b"PING\r\n")
            first = sock.recv(1)
    except OSError:
        return False
    return first in (b"+", b"-")


# Past this many connections, a request waits (POOL_WAIT s), not fails.
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

    A full Redis would delete queued jobs, the id counter and stock counts.
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
