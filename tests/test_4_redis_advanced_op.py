"""Task 4: 4-redis_advanced_op.py writes a hash field by field."""
import importlib

from helpers import run_script

advanced_op = importlib.import_module("4-redis_advanced_op")

SCHOOLS = {"Portland": "50", "Seattle": "80", "New York": "20",
           "Bogota": "20", "Cali": "40", "Paris": "2"}
EXPECTED = ("Redis client connected to the server\n"
            + "Reply: 1\n" * 6 + repr(SCHOOLS) + "\n")


def test_create_schools_sets_each_field_and_prints_each_reply(
        client, capsys):
    advanced_op.create_schools(client)
    assert client.hgetall("HolbertonSchools") == SCHOOLS
    assert capsys.readouterr().out == "Reply: 1\n" * 6


def test_create_schools_again_replies_0_for_existing_fields(client, capsys):
    advanced_op.create_schools(client)
    advanced_op.create_schools(client)
    assert capsys.readouterr().out == "Reply: 1\n" * 6 + "Reply: 0\n" * 6


def test_display_schools_prints_the_hash_as_a_dict_in_field_order(
        client, capsys):
    advanced_op.create_schools(client)
    capsys.readouterr()
    advanced_op.display_schools(client)
    assert capsys.readouterr().out == repr(SCHOOLS) + "\n"


def test_script_output_matches_the_task(real_redis):
    result = run_script("4-redis_advanced_op.py", real_redis)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, EXPECTED, "")
