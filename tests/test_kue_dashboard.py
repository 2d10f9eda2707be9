"""Kue's UI is rq-dashboard: it shows task 8's run in a real browser.

After a task 8 run (./7-job_processor.py running, ./7-job_creator.py once),
the README's command serves the dashboard, and Debian's Chromium, driven by
Playwright, reads its queues page: 9 finished and 2 failed jobs, and the
failed list names the two blacklisted numbers. Without Playwright or
Chromium the test is skipped, and says why; REQUIRE_BROWSER=1 makes that a
failure, for a CI that installs them.
"""
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
from rq.job import Job
from rq.results import Result
from rq.serializers import JSONSerializer

from helpers import (Script, free_port, run_script, wait_for_http,
                     wait_until)
from queuing import kue

CHROMIUM = "/usr/bin/chromium"
# As root on a closed network: no sandbox, nothing fetched in the
# background (each refused connection is an error line).
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu",
                  "--disable-background-networking",
                  "--disable-component-update", "--disable-sync",
                  "--no-first-run"]
QUEUE = "push_notification_code_2"


def browser_missing() -> str | None:
    """Return why no browser can run the test, or None if one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return ("Playwright is not installed "
                "(pip install -r requirements.txt)")
    if not os.access(CHROMIUM, os.X_OK):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture
def page(tmp_path):
    """Yield a Playwright page in Debian's Chromium, with a new profile."""
    reason = browser_missing()
    if reason:
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(reason + " (REQUIRE_BROWSER=1)")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_FLAGS,
            viewport={"width": 1280, "height": 560})
        try:
            yield context.new_page()
        finally:
            context.close()


@pytest.fixture
def task_8_run(real_redis):
    """Run task 8 on the real Redis, with its processor still running."""
    processor = Script("7-job_processor.py", real_redis)
    try:
        result = run_script("7-job_creator.py", real_redis, timeout=30)
        assert (result.returncode, result.stderr) == (0, ""), result
        assert result.stdout.count("completed\n") == 9, result.stdout
        yield real_redis
    finally:
        processor.kill()


@pytest.fixture
def dashboard(task_8_run):
    """Serve rq-dashboard as the README says; yield its address."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "rq-dashboard"),
               "-b", "127.0.0.1", "-p", str(port), "-u", task_8_run, "-j",
               "--show-full-args"]
    server = Script("rq-dashboard", task_8_run, command=command)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for_http(url + "/", server)
        yield SimpleNamespace(url=url, redis_url=task_8_run)
    finally:
        server.kill()


def table(page, selector: str = "table") -> list[dict[str, str]]:
    """Return the rows of the page's table, each by its column headings.

    The headings' non-breaking spaces read as plain ones.
    """
    headings = [heading.replace("\xa0", " ") for heading in
                page.locator(f"{selector} thead th").all_inner_texts()]
    return [dict(zip(headings, row.locator("td").all_inner_texts()))
            for row in page.locator(f"{selector} tbody tr").all()]


def test_the_dashboard_shows_task_8s_finished_and_failed_jobs(
        page, dashboard):
    page.goto(dashboard.url + "/0/view/queues")
    page.wait_for_selector(f"td:has-text('{QUEUE}')")
    rows = {row["Queue"]: row for row in table(page)}
    assert list(rows) == [QUEUE]
    assert {heading: rows[QUEUE][heading] for heading in (
        "Queued jobs", "Started jobs", "Finished jobs", "Failed jobs")} == {
        "Queued jobs": "0", "Started jobs": "0", "Finished jobs": "9",
        "Failed jobs": "2"}
    page.goto(f"{dashboard.url}/0/view/jobs/{QUEUE}/failed/8/asc/1")
    page.wait_for_selector("td:has-text('4153518781')")
    text = page.inner_text("table")
    # The JSON jobs are read (-j) and their calls made from their data
    # (--show-full-args): both numbers show.
    assert "4153518780" in text and "4153518781" in text, text


def test_the_dashboard_shows_why_each_failed_job_failed(page, dashboard):
    connection = redis.Redis.from_url(dashboard.redis_url)
    failed = kue.queue_for(QUEUE, connection).failed_job_registry
    for job_id in failed.get_job_ids():
        page.goto(f"{dashboard.url}/0/view/job/{job_id}")
        page.wait_for_selector("text=is blacklisted")
        assert "ValueError: Phone number 415351878" in page.inner_text(
            "body")


def test_rq_requeue_runs_task_8s_failures_again_each_with_two_records(
        task_8_run):
    connection = redis.Redis.from_url(task_8_run)
    failed = kue.queue_for(QUEUE, connection).failed_job_registry
    job_ids = sorted(failed.get_job_ids())
    assert len(job_ids) == 2
    command = [str(Path(sys.executable).parent / "rq"), "requeue", "--all",
               "--queue", QUEUE, "-S", "json", "-u", task_8_run]
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=30)
    assert (done.returncode, done.stdout.strip()) == (
        0, "Requeueing 2 jobs from failed queue"), done

    def failures(job_id: str) -> list[str]:
        """Return the messages of JOB_ID's failure records, newest first."""
        job = Job.fetch(job_id, connection=connection,
                        serializer=JSONSerializer)
        return [result.exc_string.splitlines()[-1]
                for result in job.results()
                if result.type == Result.Type.FAILED]

    wait_until(lambda: all(len(failures(job_id)) == 2 for job_id in job_ids),
               message="the requeued jobs to fail again")
    assert sorted(failures(job_id)[0] for job_id in job_ids) == [
        f"ValueError: Phone number {number} is blacklisted"
        for number in ("4153518780", "4153518781")]


def test_the_kue_page_points_at_the_screenshot():
    page = (Path(__file__).parent.parent / "docs" / "kue.md").read_text()
    assert "](../tools/dashboard.png)" in page
    image = Path(__file__).parent.parent / "tools" / "dashboard.png"
    assert image.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert image.stat().st_size < 100_000, "keep the screenshot small"
