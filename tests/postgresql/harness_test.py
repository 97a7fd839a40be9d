#!/usr/bin/env python3
"""The throwaway cluster runs unprivileged, answers on its URL, and leaves
no process or directory behind: stopped by `stop` (ctest's fixture), and
when the block using it fails (`with cluster()`)."""

import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import throwaway_cluster  # noqa: E402

failures = []


def psql(url, query):
    return subprocess.run(["psql", url, "-Atc", query], capture_output=True, text=True,
                          check=True).stdout.strip()


def alive(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            return "\nState:\tZ" not in f.read()  # a zombie has exited, awaiting its reaper
    except FileNotFoundError:
        return False


def look(url):
    """What to check once the cluster is gone: its directory and postmaster."""
    if psql(url, "SELECT current_database()") != "valise":
        failures.append(f"{url} is not the database valise")
    data = psql(url, "SHOW data_directory")
    pid = throwaway_cluster._postmaster_pid(data)
    if os.geteuid() == 0 and os.stat(f"/proc/{pid}").st_uid == 0:
        failures.append("postgres runs as root")
    return os.path.dirname(data), pid


def gone(what, directory, pid):
    for _ in range(50):
        if not alive(pid):
            break
        time.sleep(0.1)
    if alive(pid):
        failures.append(f"{what}: postmaster {pid} still runs")
    if os.path.exists(directory):
        failures.append(f"{what}: {directory} is left")


with tempfile.TemporaryDirectory() as d:
    state = os.path.join(d, "state.json")
    subprocess.run([sys.executable, os.path.join(HERE, "throwaway_cluster.py"), "start", state],
                   check=True, stdout=subprocess.DEVNULL)
    with open(state + ".url") as f:
        directory, pid = look(f.read().strip())
    subprocess.run([sys.executable, os.path.join(HERE, "throwaway_cluster.py"), "stop", state],
                   check=True)
    gone("stop", directory, pid)
    if os.path.exists(state) or os.path.exists(state + ".url"):
        failures.append("stop: the state files are left")

try:
    with throwaway_cluster.cluster() as url:
        directory, pid = look(url)
        raise RuntimeError("the test using the cluster fails")
except RuntimeError:
    pass
gone("a failing block", directory, pid)

if subprocess.run(["pgrep", "-f", "/var/lib/postgresql/"], capture_output=True).returncode == 0:
    failures.append("a Debian cluster runs")
for f in failures:
    print(f, file=sys.stderr)
sys.exit(1 if failures else 0)
