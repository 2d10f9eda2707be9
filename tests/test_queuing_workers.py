"""queuing.workers: the hardened RQ worker and the in-server worker."""
import logging
import math
import os
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

import redis
from rq import Queue
from rq.exceptions import StopRequested
from rq.job import Job
from rq.results import Result
from rq.serializers import JSONSerializer

from faults import describe_group, group_alive
from helpers import (ROOT, NotListening, Script, run_script, script_env,
                     wait_until)
from queuing import kue, options, recovery, workers
from queuing.events import events_key
from queuing.worker import KueWorker


# A processor of one queue and one job function, as a script runs it.
PROCESSOR = """
import {module}
from queuing import cli, connection, workers
cli.run(lambda: workers.process("{queue}", 1, {module}.{function},
                                connection.client(decode_responses=False)))
"""


def processor_of(queue: str, module: str, function: str, url: str,
                 program: str = PROCESSOR) -> Script:
    """Start a processor running MODULE.FUNCTION on QUEUE; wait for it."""
    script = Script(queue, url, command=[
        sys.executable, "-c",
        program.format(queue=queue, module=module, function=function)])
    try:
        with redis.Redis.from_url(url) as connection:
            wait_until(lambda: connection.scard(f"rq:workers:{queue}") == 1,
                       message=f"the worker of {queue}")
    except AssertionError:
        script.kill()
        raise
    return script


# The processor above, with a Ctrl-C that lands, the first time a worker
# gets ready to wait for a job, in library code that RQ's StopRequested
# cannot cross: an `except Exception` (redis-py wraps its metrics in
# dozens), or a destructor (Python prints what it raises, and goes on).
CTRL_C_IN_A_LIBRARY = """
import os, signal
from rq.worker import BaseWorker
procline = BaseWorker.procline

def ctrl_c():
    if not os.environ.get("STOPPED"):
        os.environ["STOPPED"] = "1"
        os.killpg(0, signal.SIGINT)  # Ctrl-C: the pool and its worker
        sum(range(1000))  # RQ's handler runs here

class Destructor:
    def __del__(self):
        ctrl_c()

def swallowing(self, message):
    try:
        ctrl_c()
    except Exception:
        pass
    procline(self, message)

def destructor(self, message):
    Destructor()
    procline(self, message)

BaseWorker.procline = {library}
""" + PROCESSOR


@pytest.mark.parametrize("library", ["swallowing", "destructor"])
def test_a_ctrl_c_that_lands_in_a_library_stops_the_processor_cleanly(
        real_redis, library):
    script = Script("ctrl_c", real_redis, command=[
        sys.executable, "-c", CTRL_C_IN_A_LIBRARY.format(
            library=library, queue="ctrl_c", module="signal",
            function="raise_signal")])
    try:
        # Before the fix, the worker waited for jobs forever (swallowing),
        # or stderr showed "Exception ignored in" and a traceback.
        assert script.wait(timeout=15) == (0, "", "")
    finally:
        script.kill()


def test_a_job_that_kills_its_worker_fails_and_a_new_worker_comes(
        real_redis):
    connection = redis.Redis.from_url(real_redis)
    processor = processor_of("killer", "signal", "raise_signal", real_redis)
    try:
        first = connection.smembers("rq:workers:killer")
        queue = kue.queue_for("killer", connection)
        # The job kills the process that runs it, like kill -9.
        job = kue.create_job(queue, signal.raise_signal, signal.SIGKILL)
        assert list(kue.job_events(connection, queue.name, [job.id])) == [
            kue.JobEvent(job.id, "failed", recovery.ABANDONED)]
        assert job.get_status(refresh=True) == "failed"
        wait_until(lambda: len(connection.smembers("rq:workers:killer")
                               - first) == 1, message="a new worker")
        assert connection.smembers("rq:workers:killer") & first == set()
        assert processor.stop(signal.SIGINT, group=True)[0] == 0
    finally:
        processor.kill()


def test_rq_logs_go_to_stderr_one_line_each(capsys, monkeypatch):
    monkeypatch.setattr(logging.getLogger("rq"), "handlers", [])
    monkeypatch.setenv("RQ_LOGGING_LEVEL", "info")
    assert workers.setup_logging() == "INFO"
    logging.getLogger("rq.worker").info("first line\nTraceback ...")
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "rq: first line\n")


def test_a_background_worker_runs_jobs_until_closed(connection):
    queue = kue.queue_for("reserve_seat", connection)
    worker = workers.BackgroundWorker(queue, math.sqrt)
    worker.start()
    first = worker.thread
    worker.start()
    assert worker.thread is first and first.is_alive()
    job = kue.create_job(queue, "math.sqrt", 16)
    wait_until(lambda: job.get_status(refresh=True) == "finished",
               message="the job to finish")
    assert job.return_value() == 4.0
    worker.close()
    assert not first.is_alive()


class BurstWorker(NotListening, KueWorker):
    """The processors' rules on a worker that runs in the test's thread."""

    job_functions = frozenset({"6-job_processor.process_notification"})


FUNCTION = "6-job_processor.process_notification"
DATA = {"phoneNumber": "4153518743", "message": "hi"}
SENT = "Sending notification to 4153518743, with message: hi\n"


def burst(connection, queue_name: str = "push_notification_code") -> None:
    """Run every job queued on QUEUE_NAME with the processors' rules."""
    queue = kue.queue_for(queue_name, connection)
    BurstWorker([queue], connection=connection,
                serializer=JSONSerializer).work(burst=True)


class ListeningWorker(KueWorker):
    """The processors' rules, with their listening thread (RQ's pubsub)."""


def listening(connection, wait_slice: float) -> ListeningWorker:
    """Return a worker whose listening thread has started."""
    worker = ListeningWorker(
        [kue.queue_for("push_notification_code", connection)],
        connection=connection, serializer=JSONSerializer)
    worker.wait_slice = wait_slice
    heard = threading.Event()
    worker.handle_payload = lambda message: heard.set()
    worker.subscribe()
    connection.publish(worker.pubsub_channel_name, "{}")
    wait_until(heard.is_set, message="the worker's thread to listen")
    return worker


def test_a_worker_s_listening_thread_ends_with_its_unsubscribe(
        connection, monkeypatch):
    # RQ sent UNSUBSCRIBE on the listening connection, then stopped the
    # thread: one that read the reply in between waited again, for a
    # minute, and RQ gave up joining it after a second. Sent after the
    # stop, it raced the thread closing that connection (with fakeredis,
    # "generator already executing" in the thread). The worker's thread
    # must not use that connection at all.
    worker = listening(connection, wait_slice=60)  # only a message wakes it
    sent = []
    monkeypatch.setattr(worker.pubsub, "execute_command",
                        lambda *args, **kwargs: sent.append(args))
    began = time.monotonic()
    thread = worker.pubsub_thread
    worker.unsubscribe()
    assert not thread.is_alive()
    assert time.monotonic() - began < 30
    assert sent == []
    assert worker.pubsub.connection is None  # closed by the thread


def test_a_worker_s_listening_thread_wakes_every_wait_slice(connection):
    # Told to stop with no message coming (Redis gone, say), RQ's thread
    # waited a minute.
    worker = listening(connection, wait_slice=0.05)
    try:
        worker.pubsub_thread.stop()
        worker.pubsub_thread.join(timeout=5)
        assert not worker.pubsub_thread.is_alive()
    finally:
        worker.unsubscribe()


def ends(connection, job_ids: list[str]) -> list[tuple[str, str, str]]:
    """Return how the jobs JOB_IDS ended, as their events tell."""
    return [tuple(event) for event in kue.job_events(
        connection, "push_notification_code", job_ids)
        if event.event in kue.ENDS]


def leftovers(connection) -> dict[str, int]:
    """Count what the queue still holds: waiting, in between, started."""
    key = "rq:queue:push_notification_code"
    return {"queued": connection.llen(key),
            "intermediate": connection.llen(key + ":intermediate"),
            "started": connection.zcard("rq:wip:push_notification_code")}


@pytest.mark.parametrize("function, data", [
    ("os.system", "touch {marker}"),
    ("subprocess.call", ["touch", "{marker}"]),
    ("6-job_processor.send_notification", "x"),
    ("builtins.exec", "open('{marker}', 'w')"),
])
def test_a_job_naming_another_function_fails_and_is_never_called(
        connection, tmp_path, capsys, function, data):
    marker = tmp_path / "ran"
    queue = kue.queue_for("push_notification_code", connection)
    if isinstance(data, str):
        data = data.format(marker=marker)
    else:
        data = [part.format(marker=marker) for part in data]
    hostile = kue.create_job(queue, function, data)
    good = kue.create_job(queue, FUNCTION, DATA)
    burst(connection)
    assert ends(connection, [hostile.id, good.id]) == [
        (hostile.id, "failed", f"Refused to run {function}: this processor "
         "runs only 6-job_processor.process_notification"),
        (good.id, "complete", "")]
    assert not marker.exists()
    assert capsys.readouterr().out == SENT
    assert hostile.get_status(refresh=True) == "failed"
    assert leftovers(connection) == {"queued": 0, "intermediate": 0,
                                     "started": 0}


def test_a_job_with_a_foreign_callback_is_refused(connection, tmp_path):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, DATA)
    connection.hset(job.key, "failure_callback_name", "os.system")
    burst(connection)
    assert ends(connection, [job.id]) == [
        (job.id, "failed", "Refused to run the callback os.system")]


def tamper(connection, key: bytes) -> None:
    """Replace the job hash at KEY by a string."""
    connection.delete(key)
    connection.set(key, "not a job")


@pytest.mark.parametrize("damage", [
    lambda connection, key: connection.hset(key, "status", "bogus"),
    lambda connection, key: connection.hset(key, "created_at", "yesterday"),
    lambda connection, key: connection.hset(key, "timeout", "abc"),
    lambda connection, key: connection.hset(key, "data", "garbage"),
    lambda connection, key: connection.hdel(key, "data"),
    tamper,
], ids=["status", "created_at", "timeout", "data", "no data", "string"])
def test_a_tampered_job_fails_with_an_event_and_the_worker_goes_on(
        backend, connection, capsys, monkeypatch, request, damage):
    if backend.name == "fakeredis" and "no data" in request.node.name:
        pytest.skip("fakeredis: RQ pops ids (no LMOVE), then drops a hash "
                    "without data; on Redis 6.2+ recovery fails it")
    queue = kue.queue_for("push_notification_code", connection)
    broken = kue.create_job(queue, FUNCTION, DATA)
    damage(connection, broken.key)
    good = kue.create_job(queue, FUNCTION, DATA)
    burst(connection)
    # A hash without data RQ skips, leaving its id taken: recovery fails it
    # once it has been there for its grace time.
    monkeypatch.setattr(recovery, "GRACE", 0)
    recovery.Recovery(queue).run()
    (job_id, event, message), *rest = sorted(
        ends(connection, [broken.id, good.id]))
    assert (job_id, event) == (broken.id, "failed")
    assert message.startswith("Job data could not be read: ")
    assert rest == [(good.id, "complete", "")]
    assert capsys.readouterr().out == SENT
    assert leftovers(connection) == {"queued": 0, "intermediate": 0,
                                     "started": 0}
    assert broken.id in queue.failed_job_registry.get_job_ids()
    assert 0 < connection.ttl(broken.key) <= options.FAILED_KEPT


def test_the_processor_script_refuses_os_system(real_redis, tmp_path):
    marker = tmp_path / "ran"
    connection = redis.Redis.from_url(real_redis)
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, "os.system", f"touch {marker}")
    processor = Script("6-job_processor.py", real_redis)
    try:
        assert ends(connection, [job.id]) == [
            (job.id, "failed", "Refused to run os.system: this processor "
             "runs only 6-job_processor.process_notification")]
        code, out, err = processor.stop(signal.SIGINT, group=True)
        assert (code, out) == (0, "")
        assert err == (f"rq: Job {job.id}: Refused to run os.system: this "
                       "processor runs only "
                       "6-job_processor.process_notification\n")
    finally:
        processor.kill()
    assert not marker.exists()


def started_sleep(queue: Queue) -> Job:
    """Queue a one-second time.sleep job on QUEUE; return it once started."""
    job = kue.create_job(queue, "time.sleep", 1)
    wait_until(lambda: job.get_status(refresh=True) == "started",
               message="the job to start")
    return job


def test_a_job_running_at_sigterm_finishes_before_the_processor_exits(
        real_redis):
    connection = redis.Redis.from_url(real_redis)
    processor = processor_of("sleepy", "time", "sleep", real_redis)
    try:
        queue = kue.queue_for("sleepy", connection)
        job = started_sleep(queue)
        assert processor.stop(signal.SIGTERM, timeout=15) == (0, "", "")
    finally:
        processor.kill()
    assert job.get_status(refresh=True) == "finished"
    assert list(kue.job_events(connection, queue.name, [job.id])) == [
        kue.JobEvent(job.id, "complete", "")]


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_a_processor_killed_alone_leaves_no_worker_behind(real_redis, busy):
    """kill -9 of the pool process only: its worker stops as on SIGTERM."""
    connection = redis.Redis.from_url(real_redis)
    processor = processor_of("sleepy", "time", "sleep", real_redis)
    try:
        queue = kue.queue_for("sleepy", connection)
        if busy:
            job = started_sleep(queue)
        processor.process.kill()
        wait_until(lambda: not group_alive(processor.process.pid),
                   timeout=15, message=lambda: "a worker outlived its pool: "
                   + describe_group(processor.process.pid))
    finally:
        processor.kill()
    assert connection.scard("rq:workers:sleepy") == 0
    if busy:
        assert job.get_status(refresh=True) == "finished"


# The processor above, with RQ's pool sleeping for ever between two looks
# at its workers, instead of a second: in a C call, as time.sleep is.
NEVER_LOOKING_AGAIN = """
import socket, types
import rq.worker_pool
ENDS = socket.socketpair()  # nothing is ever sent: recv(1) blocks
rq.worker_pool.time = types.SimpleNamespace(sleep=ENDS[0].recv)
""" + PROCESSOR


@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_a_stopped_processor_ends_with_its_worker_not_at_rqs_next_look(
        real_redis, busy):
    connection = redis.Redis.from_url(real_redis)
    processor = processor_of("sleepy", "time", "sleep", real_redis,
                             program=NEVER_LOOKING_AGAIN)
    try:
        queue = kue.queue_for("sleepy", connection)
        if busy:
            job = started_sleep(queue)
        # Before the fix, the processor waited for RQ's next look: never.
        assert processor.stop(signal.SIGTERM, timeout=15) == (0, "", "")
    finally:
        processor.kill()
    assert connection.scard("rq:workers:sleepy") == 0
    if busy:
        assert job.get_status(refresh=True) == "finished"


def test_a_finished_job_keeps_its_rq_result_for_rqs_result_ttl(
        connection, capsys):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, DATA)
    burst(connection)
    assert capsys.readouterr().out == SENT
    assert job.get_status(refresh=True) == "finished"
    assert job.id in queue.finished_job_registry.get_job_ids()
    assert job.latest_result().type == Result.Type.SUCCESSFUL
    assert 0 < connection.ttl(job.key) <= options.FINISHED_KEPT
    assert 0 < connection.ttl(f"rq:results:{job.id}") <= options.FINISHED_KEPT


def test_a_failed_job_keeps_its_error_in_rqs_result(connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, {"phoneNumber": "4153518743"})
    burst(connection)
    assert job.get_status(refresh=True) == "failed"
    assert job.id in queue.failed_job_registry.get_job_ids()
    error = job.latest_result().exc_string
    assert error.startswith("Traceback") and "KeyError" in error, error
    assert 0 < connection.ttl(job.key) <= options.FAILED_KEPT
    assert 0 < connection.ttl(f"rq:results:{job.id}") <= options.FAILED_KEPT


def lose_first_transaction(monkeypatch, key_prefix: str,
                           ran: bool = False) -> list:
    """Lose the first transaction that writes a key of KEY_PREFIX, once.

    As a dropped connection would: the worker gets a ConnectionError, and
    the transaction never ran, or (RAN) it ran and only its reply was lost.
    Returns the list the lost transaction goes into.
    """
    execute = redis.client.Pipeline.execute
    lost = []

    def lose_once(pipeline, *args, **kwargs):
        """Lose this transaction if it is the first one to write there."""
        if not lost and any(
                str(arg).startswith(key_prefix)
                for command, _ in pipeline.command_stack for arg in command):
            lost.append(pipeline.command_stack)
            if ran:
                execute(pipeline, *args, **kwargs)
            else:
                pipeline.reset()
            raise redis.ConnectionError("Connection reset by peer")
        return execute(pipeline, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", lose_once)
    return lost


def note_commands(monkeypatch) -> list[tuple]:
    """Note each command sent outside a transaction, from now on.

    Returns the list each command's arguments go into, in order.
    """
    sent = []
    execute_command = redis.Redis.execute_command

    def note(client, *args, **options):
        """Note the command, then send it."""
        sent.append(args)
        return execute_command(client, *args, **options)

    monkeypatch.setattr(redis.Redis, "execute_command", note)
    return sent


@pytest.mark.parametrize("ran", [False, True],
                         ids=["transaction dropped", "reply lost"])
@pytest.mark.parametrize("end, prefix", [
    ("failed", "rq:failed:"), ("complete", "rq:finished:")])
def test_a_job_s_end_lost_to_a_dropped_connection_is_written_once(
        connection, monkeypatch, end, prefix, ran):
    queue = kue.queue_for("push_notification_code", connection)
    data = {"phoneNumber": "4153518743"} if end == "failed" else DATA
    job = kue.create_job(queue, FUNCTION, data)
    after = kue.create_job(queue, FUNCTION, DATA)
    since = kue.last_event_id(connection, queue.name)
    lost = lose_first_transaction(monkeypatch, prefix, ran)
    burst(connection)
    assert lost, "the end's transaction was never sent"
    # RQ would have logged the lost end and left the job started for ever,
    # or failed a job that ran. Its end is in Redis once, and the worker
    # went on to the next job.
    status = "failed" if end == "failed" else "finished"
    assert job.get_status(refresh=True) == status
    assert [result.type for result in job.results()] == [
        Result.Type.FAILED if end == "failed" else Result.Type.SUCCESSFUL]
    assert [event.event for event in kue.job_events(
        connection, queue.name, [job.id], since, block=10)
        if event.event != "progress"] == [end]
    assert after.get_status(refresh=True) == "finished"
    assert connection.zcard(queue.started_job_registry.key) == 0


def test_an_event_written_again_after_its_reply_was_lost_is_kept_once(
        connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, DATA)
    for _ in range(2):  # the same write, sent again
        kue.record_event(connection, queue.name, job.id, "complete", "",
                         write_id="write-1")
    kue.record_event(connection, queue.name, job.id, "failed", "again",
                     write_id="write-2")  # another write is kept
    assert [(fields[b"event"], fields[b"value"]) for _, fields in
            connection.xrange(events_key(queue.name))] == [
        (b"complete", b""), (b"failed", b"again")]


def test_a_failed_job_requeued_and_finished_keeps_both_results(connection):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, {"phoneNumber": "4153518743"})
    burst(connection)
    assert job.latest_result().type == Result.Type.FAILED
    job.refresh()
    assert job.func_name == FUNCTION  # read, so that its data can change
    job.args = [DATA]  # mended, as a learner would before requeueing
    job.save()
    queue.failed_job_registry.requeue(job.id)
    burst(connection)
    assert job.get_status(refresh=True) == "finished"
    assert [result.type for result in job.results()] == [
        Result.Type.SUCCESSFUL, Result.Type.FAILED]


def test_a_job_that_returned_a_value_keeps_it(connection):
    queue = kue.queue_for("sums", connection)
    job = kue.create_job(queue, "math.fsum", [1.5, 2.5])

    class Summer(NotListening, KueWorker):
        """The processors' rules, running math.fsum."""

        job_functions = frozenset({"math.fsum"})

    Summer([queue], connection=connection,
           serializer=JSONSerializer).work(burst=True)
    assert job.return_value(refresh=True) == 4.0


def test_a_stop_signal_while_a_job_is_read_stops_the_worker_only(
        backend, connection, monkeypatch):
    queue = kue.queue_for("push_notification_code", connection)
    job = kue.create_job(queue, FUNCTION, DATA)

    def stop_requested(self: Job) -> None:
        """Raise what RQ's SIGINT handler raises, as it lands mid-read."""
        raise StopRequested()

    monkeypatch.setattr(Job, "refresh", stop_requested)
    burst(connection)  # returns: the worker stopped
    monkeypatch.undo()
    assert job.get_status(refresh=True) == "queued"
    assert connection.xlen(events_key(queue.name)) == 0
    assert job.id not in queue.failed_job_registry.get_job_ids()
    if backend.name == "redis-server":  # fakeredis: RQ pops, no BLMOVE
        # Taken, not started: recovery puts it back (test_queuing_recovery).
        assert connection.lrange(queue.intermediate_queue_key, 0, -1) == [
            job.id.encode()]


def test_a_server_worker_outlives_stray_messages_and_rqs_shutdown(
        connection, monkeypatch):
    uncaught = []
    monkeypatch.setattr(threading, "excepthook", uncaught.append)
    queue = kue.queue_for("reserve_seat", connection)
    worker = workers.BackgroundWorker(queue, math.sqrt)
    worker.start()
    try:
        wait_until(lambda: connection.scard("rq:workers:reserve_seat") == 1,
                   message="the server's worker")
        [key] = connection.smembers("rq:workers:reserve_seat")
        name = key.decode().rsplit(":", 1)[-1]
        wait_until(lambda: connection.pubsub_numsub(
            f"rq:pubsub:{name}")[0][1] == 1, message="its listening thread")
        for message in ("not json", "[]", '{"command": "shutdown"}'):
            connection.publish(f"rq:pubsub:{name}", message)
        # RQ's shutdown signals the whole process: only the worker stops,
        # and the next one takes over.
        wait_until(lambda: key not in connection.smembers(
            "rq:workers:reserve_seat"), message="that worker to stop")
        job = kue.create_job(queue, "math.sqrt", 9)
        wait_until(lambda: job.get_status(refresh=True) == "finished",
                   message="the next worker to run a job")
    finally:
        worker.close()
    assert uncaught == []


def test_a_server_worker_leaves_the_server_s_socket_timeout_alone(
        backend, connection):
    app_connection = redis.Redis(
        connection_pool=redis.ConnectionPool(
            socket_timeout=5, **{
                name: value for name, value in
                connection.connection_pool.connection_kwargs.items()
                if name != "socket_timeout"}),
        ) if backend.name == "redis-server" else connection
    before = app_connection.connection_pool.connection_kwargs.get(
        "socket_timeout")
    queue = kue.queue_for("reserve_seat", app_connection)
    worker = workers.BackgroundWorker(queue, math.sqrt)
    worker.start()
    try:
        job = kue.create_job(queue, "math.sqrt", 4)
        wait_until(lambda: job.get_status(refresh=True) == "finished",
                   message="the job to finish")
    finally:
        worker.close()
    assert app_connection.connection_pool.connection_kwargs.get(
        "socket_timeout") == before


def test_a_log_line_of_an_exception_names_it():
    try:
        raise PermissionError("NOPERM this user has no permissions to run "
                              "the 'xadd' command")
    except PermissionError:
        record = logging.LogRecord("rq.worker", logging.ERROR, __file__, 1,
                                   "Worker w: found an unhandled exception, "
                                   "quitting...", None, sys.exc_info())
    assert workers.OneLineFormatter().format(record) == (
        "rq: Worker w: found an unhandled exception, quitting... "
        "(PermissionError: NOPERM this user has no permissions to run the "
        "'xadd' command)")


def test_a_processor_whose_reader_went_ends_its_job_then_exits_0(
        real_redis):
    # As ./6-job_processor.py | head -0: the reader is gone before the job.
    read, write = os.pipe()
    os.close(read)
    processor = subprocess.Popen(
        ["./6-job_processor.py"], cwd=ROOT, stdout=write,
        stderr=subprocess.PIPE, text=True, env=script_env(real_redis))
    os.close(write)
    try:
        with redis.Redis.from_url(real_redis) as connection:
            wait_until(lambda: connection.scard(
                "rq:workers:push_notification_code") == 1,
                message="the processor's worker")
        creator = run_script("6-job_creator.py", real_redis)
        assert (creator.returncode, creator.stdout, creator.stderr) == (
            0, "Notification job created: 1\nNotification job completed\n",
            ""), creator
        assert processor.wait(timeout=20) == 0
        assert processor.stderr.read() == ""
    finally:
        processor.kill()
        processor.wait()
        processor.stderr.close()


@pytest.mark.slow
def test_two_ctrl_cs_during_a_job_let_it_finish_then_the_processor_exits(
        real_redis):
    # As the README says: a second Ctrl-C does not stop the job sooner.
    connection = redis.Redis.from_url(real_redis)
    processor = processor_of("sleepy", "time", "sleep", real_redis)
    try:
        job = kue.create_job(kue.queue_for("sleepy", connection),
                             "time.sleep", 2)
        wait_until(lambda: job.get_status(refresh=True) == "started",
                   message="the job to start")
        os.killpg(processor.process.pid, signal.SIGINT)
        time.sleep(0.3)  # a learner's second press, not a wait for anything
        assert processor.stop(signal.SIGINT, group=True) == (0, "", "")
    finally:
        processor.kill()
    assert job.get_status(refresh=True) == "finished"


def test_a_redis_user_without_subscribe_leaves_a_worker_working(
        real_redis, real_client, caplog):
    real_client.acl_setuser("deaf", enabled=True, passwords=["+pw"],
                            keys=["*"], channels=["*"],
                            commands=["+@all", "-subscribe"])
    url = real_redis.replace("redis://", "redis://deaf:pw@")
    try:
        connection = redis.Redis.from_url(url)
        queue = kue.queue_for("push_notification_code", connection)
        job = kue.create_job(queue, FUNCTION, DATA)
        worker = KueWorker([queue], connection=connection,
                           serializer=JSONSerializer)
        worker.job_functions = frozenset({FUNCTION})
        worker.subscribe()
        wait_until(lambda: not worker.pubsub_thread.is_alive(), timeout=10,
                   message="the listening thread to stop")
        # RQ's thread would have raised, ending the whole process.
        assert "not listening for RQ's commands: this user has no " \
            "permissions to run the 'subscribe' command" in caplog.text
        worker.pubsub_thread = None
        worker.work(burst=True)
        assert job.get_status(refresh=True) == "finished"
    finally:
        real_client.acl_deluser("deaf")


def test_workers_quitting_on_the_same_error_end_the_processor(
        real_redis, real_client):
    real_client.acl_setuser("stuck", enabled=True, passwords=["+pw"],
                            keys=["*"], channels=["*"],
                            commands=["+@all", "-blmove", "-lmove"])
    url = real_redis.replace("redis://", "redis://stuck:pw@")
    try:
        processor = Script("7-job_processor.py", url)
        # RQ's pool would start another worker twice a second, for ever.
        code, out, err = processor.wait(timeout=30)
    finally:
        real_client.acl_deluser("stuck")
    # Redis 6.2 adds " or its subcommand".
    cause = ("this user has no permissions to run the 'blmove' command"
             "( or its subcommand)?")
    lines = err.splitlines()
    assert (code, out) == (1, "")
    assert re.fullmatch(r"Error: the workers stopped [34] times in a row on: "
                        + cause, lines[-1]), lines[-1]
    assert all(re.search(rf"quitting\.\.\. \(NoPermissionError: {cause}\)$",
                         line) for line in lines[:-1]), lines
