"""Task 0: dump.rdb holds Holberton = School, loadable by Redis 6.2 and 7."""
import shutil

import redis

from helpers import ROOT, start_redis_server, stop_redis_server
from rdb import RDB_VERSION, crc64, make_rdb

DUMP = ROOT / "dump.rdb"


def test_crc64_matches_the_check_value_redis_tests_against():
    # The value src/crc64.c's own test expects for "123456789".
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


def test_dump_rdb_is_rdb_version_9_so_redis_6_2_can_load_it():
    # Redis 6.2 loads RDB versions up to 9; Redis 7 saves version 10.
    assert RDB_VERSION == 9
    assert DUMP.read_bytes()[:9] == b"REDIS0009", (
        "dump.rdb was rewritten by a newer Redis: `git checkout -- dump.rdb`")


def test_dump_rdb_holds_exactly_holberton_school():
    assert DUMP.read_bytes() == make_rdb({"Holberton": "School"}), (
        "dump.rdb was changed, often by a redis-server started in this "
        "folder that saved on exit: restore it with "
        "`git checkout -- dump.rdb`, and give redis-server a --dir of its "
        "own (README, task 0)")


def test_a_server_started_on_dump_rdb_answers_school(
        redis_server_binary, tmp_path):
    shutil.copy(DUMP, tmp_path / "dump.rdb")
    process, url = start_redis_server(tmp_path, "--dbfilename", "dump.rdb",
                                      binary=redis_server_binary)
    try:
        with redis.Redis.from_url(url, decode_responses=True) as client:
            version = client.info("server")["redis_version"]
            assert client.get("Holberton") == "School", version
            assert client.dbsize() == 1
    finally:
        stop_redis_server(process)
    assert "RDB file was saved with checksum disabled" not in (
        tmp_path / "redis.log").read_text()
