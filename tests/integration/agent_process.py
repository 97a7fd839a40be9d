"""A real `valise-agent` for the end-to-end tests: writes its agent.toml,
enrolls it with the real server, runs `valise-agent run` and stops it; plus
a TCP relay between agent and server that can throttle and cut connections
(the faults of a real network). Python 3 standard library only.

The binary comes from VALISE_AGENT_BIN (ctest passes the built one); a missing
binary is an error, never a skip."""
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

START_TIMEOUT = 30


def agent_binary():
    name = os.environ.get("VALISE_AGENT_BIN", "")
    path = shutil.which(name) if name else None
    if not path:
        raise RuntimeError(f"VALISE_AGENT_BIN={name!r}: valise-agent not found; ctest sets it "
                           "to the built binary")
    return path


def toml_string(value):
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_list(values):
    return "[" + ", ".join(toml_string(v) for v in values) + "]"


class AgentProcess:
    """The config is the service settings this class writes itself (server,
    state_dir, control_socket, fast poll and backoff), then `settings_toml`
    (more top-level keys), `delivery_toml` and `profiles_toml`."""

    def __init__(self, workdir, server_url, profiles_toml, delivery_toml="", settings_toml=""):
        self.workdir = Path(workdir)
        self.binary = agent_binary()
        self.state = self.workdir / "agent-state"
        self.config = self.workdir / "agent.toml"
        self.socket = self.workdir / "control.sock"
        self.log_path = self.workdir / "agent.log"
        self.process = None
        self.settings = settings_toml
        self.write_config(server_url, profiles_toml, delivery_toml)

    def write_config(self, server_url, profiles_toml, delivery_toml=""):
        self.config.write_text(
            f"server = {toml_string(server_url)}\n"
            f"state_dir = {toml_string(self.state)}\n"
            f"control_socket = {toml_string(self.socket)}\n"
            'poll_timeout = "5s"\nbackoff_max = "2s"\nheartbeat_interval = "10m"\n'
            f"{self.settings}\n\n"
            f"{delivery_toml}\n{profiles_toml}\n")

    def command(self, *args, check=True, timeout=120, env=None):
        result = subprocess.run([self.binary, "--config", str(self.config), *map(str, args)],
                                capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"valise-agent {' '.join(map(str, args))} exited "
                                 f"{result.returncode}:\n{result.stdout}{result.stderr}")
        return result

    def enroll(self, token, ca, **extra):
        args = ["enroll", "--token", token, "--ca", ca]
        return self.command(*args, **extra)

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [self.binary, "--config", str(self.config), "run"], stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while not self.socket.exists():
            if self.process.poll() is not None:
                raise AssertionError(f"valise-agent run exited {self.process.returncode}:\n"
                                     f"{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"valise-agent did not open its socket:\n{self.log()}")
            time.sleep(0.05)
        return self

    def kill(self):
        """SIGKILL: no chance to save anything that is not on disk already."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout=20):
        if not self.process or self.process.poll() is not None:
            return None if not self.process else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"valise-agent ignored SIGTERM for {timeout} s:\n{self.log()}")

    def wait_exit(self, timeout):
        return self.process.wait(timeout)

    def log(self):
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return "(no agent log)"


class Relay:
    """A TCP relay on 127.0.0.1 to `target_port`. `rate` (bytes/s, each way,
    per connection) slows transfers so that a test can act mid-upload;
    cut_all() resets every open connection; `up_bytes` counts what the
    client sent."""

    def __init__(self, target_port, rate=None):
        self.target_port = target_port
        self.rate = rate
        self.up_bytes = 0
        self.connections = []
        self.lock = threading.Lock()
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=10)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False),
                             daemon=True).start()

    def _pump(self, source, sink, upward):
        chunk = 16384
        try:
            while True:
                data = source.recv(chunk)
                if not data:
                    break
                sink.sendall(data)
                if upward:
                    with self.lock:
                        self.up_bytes += len(data)
                if self.rate:
                    time.sleep(len(data) / self.rate)
        except OSError:
            pass
        # Closed, not just shut down: what the peer sends next is answered
        # with a reset, as by a server that went away.
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def cut_all(self):
        with self.lock:
            connections, self.connections = self.connections, []
        for s in connections:
            try:
                # RST, as a dropped link or firewall would.
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.close()
            except OSError:
                pass

    def close(self):
        self.closed = True
        self.listener.close()
        self.cut_all()
