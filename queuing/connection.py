"""Where the scripts find Redis, and the clients they share.

Node's ``redis.createClient()`` connected to 127.0.0.1:6379 unless told
otherwise. Here ``$REDIS_URL`` tells, and the original's address is the
default. RQ reads bytes, so its clients never decode replies; the lessons'
own clients decode them to str.
"""
import functools
import os
import sys
import urllib.parse

import redis

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    """Return the server address: $REDIS_URL, or the original's default.

    A database that is not a number is refused: redis-py would take db 0.
    """
    url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    database = urllib.parse.urlsplit(url).path.strip("/")
    if url.startswith("redis") and database and not database.isdigit():
        raise redis.RedisError(f"the database of REDIS_URL must be a number, "
                               f"not {database!r}")
    return url


# A web server runs a thread per request; past this many at once, requests
# wait for a connection (up to POOL_WAIT seconds) instead of failing.
POOL_SIZE = 50
POOL_WAIT = 20


def client(decode_responses: bool = True) -> redis.Redis:
    """Return a new client for $REDIS_URL (RQ needs decode_responses off).

    Its connection pool blocks: redis-py's default pool raises "Too many
    connections" past 100 at once, which a busy web server reaches.
    """
    pool = redis.BlockingConnectionPool.from_url(
        redis_url(), decode_responses=decode_responses,
        max_connections=POOL_SIZE, timeout=POOL_WAIT)
    return redis.Redis(connection_pool=pool)


@functools.cache
def default_client() -> redis.Redis:
    """Return one shared client for $REDIS_URL that decodes replies to str.

    The lesson functions use it when they are called without a client.
    """
    return client()


@functools.cache
def warn_if_evicting(connection: redis.Redis) -> None:
    """Say once, on stderr, if Redis may evict keys: jobs and ids would go.

    Under any maxmemory-policy but noeviction, Redis deletes keys when full:
    queued jobs, the id counter (new jobs then take old ids), stock counts.
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
