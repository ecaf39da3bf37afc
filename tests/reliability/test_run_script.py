"""``make run`` (bin/run) stops cleanly on Ctrl-C and on SIGTERM.

The former recipe (``trap 'kill 0' INT TERM; … & … & wait``) printed
"wait: No child processes" on Ctrl-C and, on SIGTERM, re-entered its own trap until
bash died with "Segmentation fault". Here the real script serves the real site
(runserver and the django-q2 cluster on a migrated SQLite database) in its own
process group, gets the signal, and must end with both servers gone."""

import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from .servers import ROOT, fetch, free_port


@pytest.fixture(scope="module")
def migrated_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "db.sqlite3"
    env = _env(f"sqlite:///{path}")
    subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return f"sqlite:///{path}"


def _env(database_url: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"REDIS_URL", "WAGTAILADMIN_BASE_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="portal.settings.dev",
        PYTHON=sys.executable,
        RUN_SKIP_SETUP="1",
        Q_WORKERS="1",
    )
    return env


def _interruptible() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (runserver, qcluster and its workers)."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        listed = subprocess.run(  # noqa: S603 - fixed arguments
            ["/usr/bin/pgrep", "-P", str(parent)], capture_output=True, text=True
        ).stdout.split()
        for child in map(int, listed):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("send", "expected_code"),
    [
        # Ctrl-C in a terminal: SIGINT to the whole foreground process group.
        (lambda process: os.killpg(process.pid, signal.SIGINT), 130),
        # A supervisor or `kill`: SIGTERM to the script alone.
        (lambda process: os.kill(process.pid, signal.SIGTERM), 143),
    ],
    ids=["ctrl-c", "sigterm"],
)
def test_run_stops_both_servers_cleanly(migrated_database, send, expected_code):
    port = free_port()
    env = _env(migrated_database)
    env["PORT"] = str(port)
    process = subprocess.Popen(  # noqa: S603 - fixed arguments
        [str(ROOT / "bin" / "run")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        # As from a terminal: Ctrl-C not ignored. A test run may leave SIGINT ignored
        # in this process (django-q2 ignores it where its sentinel runs), and a shell
        # started with a signal ignored cannot trap it.
        preexec_fn=_interruptible,
    )
    # The output is read as it comes (a thread), so that the test can wait for the
    # cluster to say it is running and a full pipe never blocks the servers.
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(
            line.decode(errors="replace") for line in process.stdout
        ),
        daemon=True,
    )
    reader.start()
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                status, _headers, _body = fetch(
                    f"http://127.0.0.1:{port}/healthz", timeout=5
                )
                break
            except OSError:
                assert process.poll() is None, "".join(lines)
                assert time.monotonic() < deadline, "the site was never served"
                time.sleep(0.5)
        assert status == 200
        # The cluster may still be forking its processes when the site first answers,
        # on a loaded machine, and django-q2 can hang when told to stop before it is
        # up: wait until it says it is running (uvicorn, qcluster, its guard, pusher,
        # monitor and worker are then all there).
        deadline = time.monotonic() + 60
        while not any(line.rstrip().endswith("running.") for line in list(lines)):
            assert time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        servers = _descendants(process.pid)
        assert len(servers) >= 6, servers
        send(process)
        try:
            code = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            tree = subprocess.run(  # noqa: S603 - fixed arguments
                [
                    "/usr/bin/ps",
                    "-o",
                    "pid,pgid,stat,wchan:20,args",
                    "--ppid",
                    ",".join(map(str, {process.pid, *_descendants(process.pid)})),
                ],
                capture_output=True,
                text=True,
            ).stdout
            pytest.fail(f"bin/run did not stop:\n{tree}\n{''.join(lines)}")
        reader.join(timeout=10)
        output = "".join(lines)
        assert code == expected_code, output
        for noise in ("Segmentation fault", "No child processes", "Traceback"):
            assert noise not in output, output
        assert f"Serving on http://127.0.0.1:{port}/" in output
        assert output.rstrip().endswith("Stopped.")
        # runserver, qcluster and its worker processes are all gone.
        deadline = time.monotonic() + 15
        while any(map(_alive, servers)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [pid for pid in servers if _alive(pid)]
    finally:
        for pid in _descendants(process.pid):
            os.kill(pid, signal.SIGKILL)
        if _group_alive(process.pid):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
