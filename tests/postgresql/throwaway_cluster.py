#!/usr/bin/env python3
"""A throwaway PostgreSQL 15 cluster for tests.

initdb and pg_ctl run in a fresh temporary directory as an unprivileged user
(root cannot run postgres: `nobody` when started as root), listening on
127.0.0.1 on a free port and on a socket in that directory, with one database
`valise` owned by the role `valise` (a random password over TCP, which the
URL holds; trust only on the socket in the private directory). fsync is off
unless --durable (benchmarks).
Debian's own clusters (pg_ctlcluster, /var/lib/postgresql) are never touched.

    throwaway_cluster.py start STATE   start one, write STATE (JSON) and STATE.url
    throwaway_cluster.py stop STATE    stop it and delete everything (idempotent)
    throwaway_cluster.py restart STATE pg_ctl restart: every session ends, the data stays
    throwaway_cluster.py run [--durable] -- CMD…
                                       start, run CMD with VALISE_TEST_POSTGRESQL_URL, stop

From Python: `with cluster() as url: ...`; halt(STATE) and resume(STATE)
stop and start the postmaster of a cluster start() made, keeping its data and
port (a database outage), restart(STATE) does both.
"""

import contextlib
import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("VALISE_POSTGRESQL_BIN", "/usr/lib/postgresql/15/bin")
USER = "nobody"  # the unprivileged user postgres runs as when we are root
DATABASE = "valise"


def _as_owner(argv):
    if os.geteuid() != 0:
        return argv
    return ["setpriv", f"--reuid={USER}", f"--regid={pwd.getpwnam(USER).pw_gid}",
            "--clear-groups", "--"] + argv


def _run(argv, cwd, **kw):
    env = dict(os.environ, HOME=cwd, LC_ALL="C.UTF-8")
    for var in ("PGHOST", "PGPORT", "PGDATA", "PGUSER", "PGDATABASE", "PGSERVICE"):
        env.pop(var, None)
    return subprocess.run(argv, cwd=cwd, env=env, check=True, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _postmaster_pid(data):
    try:
        with open(os.path.join(data, "postmaster.pid")) as f:
            return int(f.readline())
    except (OSError, ValueError):
        return None


def _is_postgres(pid):
    """Whether PID is still a postgres process (not a pid reused since)."""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip() == "postgres"
    except OSError:
        return False


def stop(state_path):
    """Stops the cluster STATE describes and deletes its directory."""
    try:
        with open(state_path) as f:
            state = json.load(f)
    except FileNotFoundError:
        return
    directory = state["dir"]
    data = os.path.join(directory, "data")
    if os.path.isdir(data):
        try:
            _run(_as_owner([f"{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30",
                            "stop"]), directory)
        except subprocess.CalledProcessError:
            pid = _postmaster_pid(data)
            if pid and _is_postgres(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                # postgres's children leave when the postmaster is gone
                for _ in range(100):
                    if not os.path.exists(f"/proc/{pid}"):
                        break
                    time.sleep(0.05)
    shutil.rmtree(directory, ignore_errors=True)
    for path in (state_path, state_path + ".url"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def _pg_ctl_start(data, directory, options):
    _run(_as_owner([f"{BIN}/pg_ctl", "-D", data, "-l", os.path.join(directory, "log"), "-o",
                    options, "-w", "-t", "60", "start"]), directory)


def _state(state_path):
    with open(state_path) as f:
        state = json.load(f)
    return state, os.path.join(state["dir"], "data")


def halt(state_path):
    """Stops the postmaster (fast: sessions end), keeping data and port."""
    state, data = _state(state_path)
    _run(_as_owner([f"{BIN}/pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "30", "stop"]),
         state["dir"])


def resume(state_path):
    """Starts the postmaster halt() stopped, on the same port."""
    state, data = _state(state_path)
    _pg_ctl_start(data, state["dir"], state["options"])


def restart(state_path):
    """`pg_ctl restart`: every session is ended, the cluster answers again."""
    halt(state_path)
    resume(state_path)


def start(state_path, durable=False):
    """Starts a cluster, records it in STATE (and its URL in STATE.url), returns the URL.

    durable: fsync and synchronous commits on, as in production (benchmarks).
    """
    stop(state_path)  # a cluster a killed run left behind
    directory = tempfile.mkdtemp(prefix="valise-pg-")
    state = {"dir": directory}
    os.makedirs(os.path.dirname(os.path.abspath(state_path)), exist_ok=True)
    with open(state_path, "w") as f:
        json.dump(state, f)
    try:
        if os.geteuid() == 0:
            entry = pwd.getpwnam(USER)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        data = os.path.join(directory, "data")
        # Over TCP a password, since any local user reaches 127.0.0.1 (and a
        # superuser can run programs through COPY … TO PROGRAM); trust only
        # on the socket in this private directory, for createdb below.
        password = secrets.token_hex(16)
        password_file = os.path.join(directory, "password")
        with open(os.open(password_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(password + "\n")
        if os.geteuid() == 0:
            os.chown(password_file, entry.pw_uid, entry.pw_gid)
        _run(_as_owner([f"{BIN}/initdb", "-D", data, "-U", "valise", "--auth-local=trust",
                        "--auth-host=scram-sha-256", f"--pwfile={password_file}",
                        "--encoding=UTF8", "--locale=C", "--no-sync"]), directory)
        os.remove(password_file)
        for attempt in range(5):
            port = _free_port()
            options = (f"-c listen_addresses=127.0.0.1 -p {port} "
                       f"-c unix_socket_directories={directory}")
            if not durable:  # tests: what a crash of the cluster would lose does not matter
                options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            try:
                _pg_ctl_start(data, directory, options)
                break
            except subprocess.CalledProcessError:
                if attempt == 4:
                    raise
        _run([f"{BIN}/createdb", "-h", directory, "-p", str(port), "-U", "valise", DATABASE],
             directory)
        url = f"postgresql://valise:{password}@127.0.0.1:{port}/{DATABASE}"
        state.update(port=port, url=url, options=options)
        for path, text in ((state_path, json.dumps(state)), (state_path + ".url", url + "\n")):
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(text)
        return url
    except BaseException as e:
        log = os.path.join(directory, "log")
        if isinstance(e, subprocess.CalledProcessError):
            print(e.stdout, file=sys.stderr)
        if os.path.exists(log):
            with open(log) as f:
                print(f.read(), file=sys.stderr)
        stop(state_path)
        raise


@contextlib.contextmanager
def cluster(durable=False):
    """A cluster for the `with` block; yields its URL."""
    with tempfile.TemporaryDirectory(prefix="valise-pg-state-") as d:
        state = os.path.join(d, "state.json")
        url = start(state, durable)
        try:
            yield url
        finally:
            stop(state)


def main(argv):
    if len(argv) == 3 and argv[1] == "start":
        print(start(argv[2]))
        return 0
    if len(argv) == 3 and argv[1] == "stop":
        stop(argv[2])
        return 0
    if len(argv) == 3 and argv[1] == "restart":
        restart(argv[2])
        return 0
    durable = len(argv) > 2 and argv[1] == "run" and argv[2] == "--durable"
    if durable:
        argv = argv[:2] + argv[3:]
    if len(argv) > 3 and argv[1] == "run" and argv[2] == "--":
        # ctest stops a test that times out with SIGTERM: stop the cluster then too.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        with cluster(durable) as url:
            return subprocess.run(argv[3:], env=dict(os.environ,
                                                     VALISE_TEST_POSTGRESQL_URL=url)).returncode
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
