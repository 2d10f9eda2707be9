"""Task 11: the port of 8-job.test.js, Kue's test mode on fakeredis.

Kue's queue.testMode records jobs without processing them. Here the queue
lives on a fresh fakeredis server and no worker ever runs, so the jobs stay
queued where the test can read them; the queue is emptied after each test,
as the original's afterEach cleared it.
"""
import importlib

import fakeredis
import pytest
from rq import Queue
from rq.serializers import JSONSerializer

from helpers import printed_lines, run_script, work_burst

job_module = importlib.import_module("8-job")
create_push_notifications_jobs = job_module.create_push_notifications_jobs

JOBS = [
    {"phoneNumber": "4153518780",
     "message": "This is the code 1234 to verify your account"},
    {"phoneNumber": "4153518781",
     "message": "This is the code 4562 to verify your account"},
]


@pytest.fixture
def queue():
    """Yield a queue in test mode: fakeredis, no worker; empty it after."""
    connection = fakeredis.FakeRedis(server=fakeredis.FakeServer())
    test_queue = Queue("push_notification_code_3", connection=connection,
                       serializer=JSONSerializer)
    yield test_queue
    test_queue.empty()
    assert test_queue.count == 0


@pytest.mark.parametrize("jobs", ["jobs", {"jobs": JOBS}, None, 42,
                                  tuple(JOBS)])
def test_display_a_error_message_if_jobs_is_not_an_array(queue, jobs):
    with pytest.raises(Exception, match="^Jobs is not an array$"):
        create_push_notifications_jobs(jobs, queue)
    assert queue.count == 0


def test_create_two_new_jobs_to_the_queue(queue, capsys):
    created = create_push_notifications_jobs(JOBS, queue)
    assert capsys.readouterr().out == ("Notification job created: 1\n"
                                       "Notification job created: 2\n")
    assert [job.id for job in created] == ["1", "2"]
    assert [job.origin for job in queue.jobs] == [
        "push_notification_code_3"] * 2
    assert [job.args for job in queue.jobs] == [[data] for data in JOBS]


def test_jobs_go_to_push_notification_code_3_on_the_given_connection(
        queue):
    other = Queue("push_notification_code_3",
                  connection=fakeredis.FakeRedis(
                      server=fakeredis.FakeServer()))
    create_push_notifications_jobs(JOBS[:1], queue)
    assert queue.job_ids == ["1"] and other.count == 0


@pytest.mark.parametrize("jobs, message", [
    ([{"phoneNumber": "4153518780"}],
     "Job 0 is not an object with a phoneNumber and a message: "
     "{'phoneNumber': '4153518780'}"),
    ([JOBS[0], {"message": "hi"}],
     "Job 1 is not an object with a phoneNumber and a message: "
     "{'message': 'hi'}"),
    ([JOBS[0], "4153518780"],
     "Job 1 is not an object with a phoneNumber and a message: "
     "'4153518780'"),
])
def test_a_malformed_job_is_refused_before_anything_is_queued(
        queue, capsys, jobs, message):
    with pytest.raises(ValueError) as error:
        create_push_notifications_jobs(jobs, queue)
    assert str(error.value) == message
    assert queue.count == 0
    assert capsys.readouterr().out == ""


def test_an_empty_list_creates_nothing(queue, capsys):
    assert create_push_notifications_jobs([], queue) == []
    assert queue.count == 0 and capsys.readouterr().out == ""


def test_events_are_printed_while_the_process_lives(queue, capsys):
    create_push_notifications_jobs(JOBS, queue)
    work_burst(queue)  # both numbers are blacklisted: both jobs fail
    lines = printed_lines(capsys, 6, "event lines")
    assert lines == [
        "Notification job created: 1",
        "Notification job created: 2",
        "Notification job 1 0% complete",
        "Notification job 1 failed: Phone number 4153518780 is blacklisted",
        "Notification job 2 0% complete",
        "Notification job 2 failed: Phone number 4153518781 is blacklisted",
    ]


def test_the_script_creates_one_job_and_exits_without_waiting(
        real_redis, real_client):
    result = run_script("8-job.py", real_redis, timeout=10)
    assert (result.returncode, result.stdout, result.stderr) == (
        0, "Notification job created: 1\n", "")
    assert real_client.lrange("rq:queue:push_notification_code_3",
                              0, -1) == ["1"]
