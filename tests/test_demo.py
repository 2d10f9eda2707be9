"""The README's second quick-start command: tools/demo.py runs every task."""
import re
import subprocess
import sys

from helpers import ROOT, redis_server_binaries, script_env, unavailable


def test_the_demo_starts_its_own_redis_and_shows_every_task(closed_url):
    if not redis_server_binaries():
        unavailable("no redis-server for the demo to start")
    result = subprocess.run([sys.executable, "tools/demo.py"], cwd=ROOT,
                            env=script_env(closed_url), capture_output=True,
                            text=True, timeout=120)
    assert (result.returncode, result.stderr) == (0, ""), result.stdout
    out = result.stdout
    assert out.startswith("demo: started a private Redis at redis://")
    for block in [
        "GET Holberton -> School\n",
        "$ ./1-redis_op.py\nRedis client connected to the server\nSchool\n"
        "Reply: OK\n100\n",
        "[5-subscriber.py printed:]\nRedis client connected to the server\n"
        "Holberton Student #1 starts course\n"
        "Holberton Student #2 starts course\nKILL_SERVER\n",
        "$ ./6-job_creator.py\nNotification job created: 1\n"
        "Notification job completed\n",
        "Notification job 3 failed: Phone number 4153518781 is blacklisted\n",
        '{"numberOfAvailableSeats":"0"}\n',
        '{"status":"Reservation are blocked"}\n',
    ]:
        assert block in out, f"missing:\n{block}"
    assert out.count(" completed\n") >= 50 + 9 + 1
    # The demo stops the seat server once it printed a line for each job.
    assert len(re.findall(r"^Seat reservation job \d+ completed$", out,
                          re.MULTILINE)) == 50
    assert out.endswith("\ndemo: done\n")
