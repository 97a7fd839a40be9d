"""Runs an installed systemd service the way its unit file says, on a machine
without systemd as PID 1 (this one): the packaging tests start valise-server
and valise-agent from /lib/systemd/system/*.service, not from a command line
of their own. Python 3 standard library only.

What is followed: ExecCondition (exit 1-254: the unit is skipped, as systemd
leaves it inactive), ExecStart, User, Group, SupplementaryGroups, UMask,
Environment, LimitNOFILE, StateDirectory and RuntimeDirectory (with their modes, owned by
the unit's user), the environment systemd gives a service (USER, HOME, PATH,
STATE_DIRECTORY, RUNTIME_DIRECTORY...), Type=notify (READY=1 on
NOTIFY_SOCKET; every notification is kept in .notifications) and WatchdogSec
(WATCHDOG_USEC and WATCHDOG_PID set). What is not: the sandboxing directives (ProtectSystem=,
SystemCallFilter=...), which only systemd can apply; systemd-analyze checks
them offline (tests/integration/test_systemd_units.py)."""
import grp
import os
import pwd
import resource
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def parse_unit(path):
    """{section: {key: [values in order]}}; comments and blank lines dropped."""
    sections, current = {}, None
    for raw in Path(path).read_text().splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        key, _, value = line.partition("=")
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def command_line(value):
    """ExecStart's argv: systemd's prefixes (-, @, +, !, :) are not used by
    valise's units, and a unit that starts using one must be looked at."""
    if value[:1] in "-@+!:":
        raise AssertionError(f"unit command {value!r} has a prefix this runner does not follow")
    return shlex.split(value)


class Unit:
    def __init__(self, path, log_path):
        self.path = Path(path)
        self.name = self.path.stem
        self.unit = parse_unit(path)
        self.service = self.unit.get("Service", {})
        self.log_path = Path(log_path)
        self.process = None
        self.notifications = []
        self._notify_dir = None
        self._notify_socket = None
        self._listener = None

    def one(self, key, default=None):
        values = self.service.get(key)
        return values[-1] if values else default

    def all(self, key):
        return [word for value in self.service.get(key, []) for word in value.split()]

    # The environment and credentials systemd gives the unit's processes.
    def _identity(self):
        user = pwd.getpwnam(self.one("User", "root"))
        group = grp.getgrnam(self.one("Group", user.pw_name)) if self.one("Group") else \
            grp.getgrgid(user.pw_gid)
        extra = [grp.getgrnam(name).gr_gid for name in self.all("SupplementaryGroups")]
        return user, group, extra

    def _environment(self, user):
        env = {"PATH": SERVICE_PATH, "LANG": "C.UTF-8", "USER": user.pw_name,
               "LOGNAME": user.pw_name, "HOME": user.pw_dir, "SHELL": user.pw_shell}
        for value in self.service.get("Environment", []):
            for assignment in shlex.split(value):
                key, _, val = assignment.partition("=")
                env[key] = val
        for kind, root in (("State", "/var/lib"), ("Runtime", "/run")):
            dirs = self.all(f"{kind}Directory")
            if dirs:
                env[f"{kind.upper()}_DIRECTORY"] = ":".join(f"{root}/{d}" for d in dirs)
        return env

    def _make_directories(self, user, group):
        for kind, root in (("State", "/var/lib"), ("Runtime", "/run")):
            mode = int(self.one(f"{kind}DirectoryMode", "0755"), 8)
            for name in self.all(f"{kind}Directory"):
                path = Path(root) / name
                path.mkdir(parents=True, exist_ok=True)
                os.chown(path, user.pw_uid, group.gr_gid)
                os.chmod(path, mode)

    def _spawn(self, argv, env, stdout, extra_env=None):
        user, group, extra = self._identity()
        umask = int(self.one("UMask", "0022"), 8)
        full_env = {**env, **(extra_env or {})}
        # WATCHDOG_PID must be the service's own pid: a shell learns it and
        # execs the program in its place.
        wrapped = ["/bin/sh", "-c", 'WATCHDOG_PID=$$; export WATCHDOG_PID; exec "$@"', "sh", *argv] \
            if "WATCHDOG_USEC" in full_env else argv
        # LimitNOFILE= (SOFT:HARD, or one value for both): the child inherits
        # ours, set while it starts (raising the hard limit needs root, which
        # the child no longer is by the time a preexec_fn would run).
        saved = resource.getrlimit(resource.RLIMIT_NOFILE)
        value = self.one("LimitNOFILE")
        if value:
            soft, _, hard = value.partition(":")
            wanted = (int(soft), int(hard or soft))
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, wanted)
            except (ValueError, OSError):
                # Above what this machine lets even root have (a container's
                # limit): as close as it allows.
                resource.setrlimit(resource.RLIMIT_NOFILE,
                                   (min(wanted[0], saved[1]), min(wanted[1], saved[1])))
        try:
            return subprocess.Popen(wrapped, env=full_env, stdout=stdout,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd="/",
                                    user=user.pw_uid, group=group.gr_gid, extra_groups=extra,
                                    umask=umask, start_new_session=True)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, saved)

    def condition(self, timeout=60):
        """Runs every ExecCondition: (returncode, output) of the first that is
        not 0, else (0, ""). 1-254 means systemd leaves the unit inactive."""
        user, group, _ = self._identity()
        self._make_directories(user, group)
        env = self._environment(user)
        for value in self.service.get("ExecCondition", []):
            with tempfile.TemporaryFile() as out:
                process = self._spawn(command_line(value), env, out)
                code = process.wait(timeout)
                out.seek(0)
                text = out.read().decode(errors="replace")
            with open(self.log_path, "a") as log:
                log.write(text)
            if code != 0:
                return code, text
        return 0, ""

    def start(self, timeout=60):
        """ExecCondition, then ExecStart; for Type=notify, returns once the
        service said READY=1 (else raises with its log)."""
        code, text = self.condition()
        if code != 0:
            raise AssertionError(f"{self.name}: ExecCondition exited {code}: {text}")
        user, group, _ = self._identity()
        env = self._environment(user)
        extra = {}
        notify = self.one("Type", "simple") == "notify"
        if notify:
            self._listen(user)
            extra["NOTIFY_SOCKET"] = self._notify_socket
        watchdog = self.one("WatchdogSec")
        if watchdog:
            extra["WATCHDOG_USEC"] = str(int(seconds(watchdog) * 1_000_000))
        starts = self.service.get("ExecStart", [])
        if len(starts) != 1:
            raise AssertionError(f"{self.name}: expected one ExecStart, found {starts}")
        log = open(self.log_path, "ab")
        self.process = self._spawn(command_line(starts[0]), env, log, extra)
        log.close()
        if notify:
            deadline = time.monotonic() + timeout
            while "READY=1" not in self.notifications:
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} exited {self.process.returncode} before "
                                         f"READY=1:\n{self.log()}")
                if time.monotonic() > deadline:
                    raise AssertionError(f"{self.name} sent no READY=1 in {timeout} s:\n{self.log()}")
                time.sleep(0.05)
        return self

    def _listen(self, user):
        self._notify_dir = tempfile.mkdtemp(prefix=f"{self.name}-notify-")
        os.chmod(self._notify_dir, 0o755)
        path = os.path.join(self._notify_dir, "notify")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(path)
        os.chown(path, user.pw_uid, -1)
        sock.settimeout(0.2)
        self._notify_socket = path
        self._stop_listening = threading.Event()

        def listen():
            while not self._stop_listening.is_set():
                try:
                    data = sock.recv(4096)
                except socket.timeout:
                    continue
                self.notifications.extend(data.decode(errors="replace").splitlines())
            sock.close()

        self._listener = threading.Thread(target=listen, daemon=True)
        self._listener.start()

    def stop(self):
        """SIGTERM as systemd sends it, SIGKILL after TimeoutStopSec; returns
        the exit status. RuntimeDirectory goes, as systemd removes it."""
        code = None
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                code = self.process.wait(seconds(self.one("TimeoutStopSec", "90s")))
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                code = "killed after TimeoutStopSec"
        elif self.process:
            code = self.process.returncode
        if self._listener:
            self._stop_listening.set()
            self._listener.join()
            self._listener = None
        if self._notify_dir:
            shutil.rmtree(self._notify_dir, ignore_errors=True)
            self._notify_dir = None
        for name in self.all("RuntimeDirectory"):
            shutil.rmtree(Path("/run") / name, ignore_errors=True)
        return code

    def log(self, lines=60):
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def seconds(text):
    """systemd's time spans as valise's units use them: 5s, 15s, 5min, 2h."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600}
    number = text.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = text[len(number):] or "s"
    if unit not in units:
        raise AssertionError(f"time span {text!r} is not one this runner reads")
    return float(number) * units[unit]
