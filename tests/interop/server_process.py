"""A real `valise-server` on loopback for the interop tests and bench/upload:
`init` into a fresh data directory with a free port, a technician token, `run`
until /healthz answers, JSON API calls over HTTPS trusting only DATA/ca.pem,
and a clean stop (SIGTERM). Python 3 standard library only.

The binary comes from VALISE_SERVER_BIN (ctest passes $<TARGET_FILE:valise-server>);
a missing binary is an error, never a skip."""
import base64
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

START_TIMEOUT = 30  # seconds until /healthz answers 200
# The support team's key by default (`init --recipient`): upload links need
# one (or a passphrase). The public key of age's spec test vectors: nobody
# here decrypts what is encrypted to it.
TEAM_RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
STOP_TIMEOUT = 15  # seconds between SIGTERM and SIGKILL


def server_binary():
    name = os.environ.get("VALISE_SERVER_BIN", "")
    path = shutil.which(name) if name else None
    if not path:
        raise RuntimeError(
            f"VALISE_SERVER_BIN={name!r}: valise-server not found; ctest sets it to the built "
            "binary (cmake --build BUILD --target valise-server)")
    return path


def postgresql_database():
    """A new empty database on the test cluster when VALISE_TEST_BACKEND is
    `postgresql` (its URL from VALISE_TEST_POSTGRESQL_URL, or the file
    VALISE_TEST_POSTGRESQL_URL_FILE that ctest's `postgresql` fixture writes);
    None for the SQLite default."""
    if os.environ.get("VALISE_TEST_BACKEND", "sqlite") != "postgresql":
        return None
    url = os.environ.get("VALISE_TEST_POSTGRESQL_URL", "")
    url_file = os.environ.get("VALISE_TEST_POSTGRESQL_URL_FILE", "")
    if not url and url_file:
        url = Path(url_file).read_text().strip()
    if not url:
        raise RuntimeError("VALISE_TEST_BACKEND=postgresql needs VALISE_TEST_POSTGRESQL_URL or "
                           "VALISE_TEST_POSTGRESQL_URL_FILE (ctest's postgresql fixture)")
    name = "valise_" + os.urandom(6).hex()
    psql(url, f"CREATE DATABASE {name}")
    return url[:url.rfind("/") + 1] + name


def psql(url, sql):
    """`psql URL -c SQL` (unaligned, tuples only); its stdout."""
    result = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", url,
                             "-c", sql], capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise RuntimeError(f"psql {sql!r} exited {result.returncode}: "
                           f"{result.stderr.decode(errors='replace')}")
    return result.stdout.decode()


def free_port():
    """A TCP port free on 127.0.0.1 right now (the kernel's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiError(AssertionError):
    pass


class PortTaken(RuntimeError):
    """`run` found its port taken: another process bound it between
    free_port() and the server's own bind."""


PORT_TRIES = 5  # free ports start() tries when another process took the one it chose


class ServerProcess:
    """Usage: `with ServerProcess(workdir) as server: server.api("GET", "/healthz")`.
    `config_edits` ({"section.key": "TOML value"}) replace keys of the
    server.toml that init writes. `run_as` (a user name; the tests run as
    root): `run` as that user, the data directory given to them after init
    (workdir must be theirs to traverse). `recipients`: the team's age keys
    given to init (server.toml [keys] recipients). Attributes once started:
    url, port, data, ca (path), admin_token, technician_token, pid, database_url
    (VALISE_TEST_BACKEND=postgresql: the server's own database on the test
    cluster, made by `start`; else None, SQLite in the data directory)."""

    def __init__(self, workdir, binary=None, config_edits=None, run_as=None,
                 recipients=(TEAM_RECIPIENT,)):
        self.workdir = Path(workdir)
        self.binary = binary or server_binary()
        self.config_edits = dict(config_edits or {})
        self.run_as = run_as
        self.recipients = list(recipients)
        self.data = self.workdir / "server-data"
        self.log_path = self.workdir / "server.log"
        self.port = None
        self.process = None
        self.database_url = None  # the PostgreSQL database, if the tests run on one

    # --- lifetime ---------------------------------------------------------------

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_):
        self.stop()

    def _command(self, *args):
        result = subprocess.run([self.binary, *args], capture_output=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise RuntimeError(f"valise-server {' '.join(args)} exited {result.returncode}:\n"
                               f"{result.stdout.decode(errors='replace')}"
                               f"{result.stderr.decode(errors='replace')}")
        return result.stdout.decode()

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        keys = [arg for key in self.recipients for arg in ("--recipient", key)]
        # PostgreSQL when the environment asks for it: a database of its own.
        self.database_url = postgresql_database()
        store = ["--store", self.database_url] if self.database_url else []
        out = self._command("init", "--data", str(self.data),
                            "--listen", f"127.0.0.1:{self.port}", "--hostname", "localhost", *keys,
                            *store)
        lines = out.strip().splitlines()
        if not lines:
            raise RuntimeError("valise-server init printed nothing (expected the admin token last)")
        self.admin_token = lines[-1].strip()
        if self.config_edits:
            self._edit_config()
        self.ca = self.data / "ca.pem"
        if not self.ca.is_file():
            raise RuntimeError(f"valise-server init wrote no {self.ca}")
        self.technician_token = self._command(
            "token", "create", "--data", str(self.data), "--role", "technician",
            "--name", "interop").strip()
        if self.run_as:
            self._give_data_to(self.run_as)
        self._ssl = ssl.create_default_context(cafile=str(self.ca))
        self._run_on_a_free_port(self.data / "server.toml")

    def _edit_config(self):
        path = self.data / "server.toml"
        lines, section, missing = [], None, set(self.config_edits)
        for line in path.read_text().splitlines():
            if line.startswith("["):
                section = line.strip("[]")
            name = line.split(" = ")[0]
            if f"{section}.{name}" in self.config_edits:
                line = f"{name} = {self.config_edits[f'{section}.{name}']}"
                missing.discard(f"{section}.{name}")
            lines.append(line)
        if missing:
            raise RuntimeError(f"server.toml has no {', '.join(sorted(missing))}")
        path.write_text("\n".join(lines) + "\n")

    def _give_data_to(self, user):
        entry = pwd.getpwnam(user)
        for path in [self.data, *self.data.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid, follow_symlinks=False)

    def location(self):
        """The arguments naming the configuration: the data directory init made."""
        return ["--data", str(self.data)]

    def _run_on_a_free_port(self, config_file):
        """run(), on another free port (written to `config_file`) each time
        another process took the one chosen: free_port() only says the port
        was free when it looked, and init and token take a while under load."""
        for attempt in range(PORT_TRIES):
            try:
                return self.run()
            except PortTaken:
                if attempt == PORT_TRIES - 1:
                    raise
            old = f'listen = "127.0.0.1:{self.port}"'
            self.port = free_port()
            self.url = f"https://127.0.0.1:{self.port}"
            text = config_file.read_text()
            if old not in text:
                raise RuntimeError(f"{config_file} has no {old}")
            config_file.write_text(text.replace(old, f'listen = "127.0.0.1:{self.port}"'))

    def restart(self):
        """Stops the server (SIGTERM) and runs it again on the same data and port."""
        self.stop()
        self.run()

    def run(self):
        """`valise-server run` on the initialised data directory, until /healthz
        answers. PortTaken if its port was taken."""
        log = open(self.log_path, "ab")
        log_start = log.tell()
        self.process = subprocess.Popen([self.binary, "run", *self.location()],
                                        stdout=log, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        user=self.run_as)
        log.close()
        self.pid = self.process.pid
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                with open(self.log_path, "rb") as f:
                    f.seek(log_start)
                    said = f.read().decode(errors="replace")
                error = PortTaken if ("cannot listen on" in said and
                                      "Address already in use" in said) else RuntimeError
                raise error(f"valise-server run exited {self.process.returncode} "
                            f"before answering /healthz:\n{self.log_tail()}")
            try:
                # Not 30 s: whatever else listens on a port taken from under
                # us may never answer, and the exit above must be seen.
                status, _, _ = self.request("GET", "/healthz", timeout=5)
                if status == 200:
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"valise-server not healthy after {START_TIMEOUT} s:\n"
                                   f"{self.log_tail()}")
            time.sleep(0.1)

    def stop(self):
        """SIGTERM, then SIGKILL if it does not exit in time. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise RuntimeError(f"valise-server ignored SIGTERM for {STOP_TIMEOUT} s:\n"
                               f"{self.log_tail()}")

    def log_tail(self, lines=40):
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:])

    # --- HTTP -------------------------------------------------------------------

    def tls_context(self, certificate=None, key=None):
        """A client TLS context trusting only DATA/ca.pem, presenting
        `certificate` (an agent's, PEM file) with `key` if given."""
        context = ssl.create_default_context(cafile=str(self.ca))
        if certificate:
            context.load_cert_chain(str(certificate), str(key))
        return context

    def request(self, method, path, body=None, token=None, headers=None, timeout=30,
                context=None):
        """One HTTPS request; returns (status, headers dict lowercased, body bytes).
        `context`: a TLS context of tls_context() (an agent's certificate)."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=context or self._ssl,
                                           timeout=timeout)
        try:
            all_headers = dict(headers or {})
            if token:
                all_headers["Authorization"] = f"Bearer {token}"
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                all_headers.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        finally:
            conn.close()

    def api(self, method, path, body=None, token=None, expect=None):
        """A JSON API call with the technician token by default; returns the decoded
        body. `expect`: the status required (an ApiError otherwise)."""
        status, _, data = self.request(method, path, body, token or self.technician_token)
        if expect is not None and status != expect:
            raise ApiError(f"{method} {path}: expected {expect}, got {status}: "
                           f"{data.decode(errors='replace')}")
        return json.loads(data) if data else None

    def command(self, *args):
        """`valise-server ARGS` (a tool beside the running server); its stdout."""
        return self._command(*args)

    def valise(self, *args):
        """`valise ARGS` (VALISE_BIN) against this server as its technician,
        with a HOME of its own; its stdout, or an AssertionError with stderr."""
        binary = os.environ.get("VALISE_BIN")
        if not binary:
            raise RuntimeError("VALISE_BIN must name the valise binary")
        home = self.workdir / "valise-home"
        env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
        env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"))
        result = subprocess.run([binary, *args, "--server", self.url, "--ca", str(self.ca),
                                 "--token", self.technician_token],
                                capture_output=True, timeout=60, env=env, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            raise AssertionError(f"valise {' '.join(args)} exited {result.returncode}: "
                                 f"{result.stderr.decode(errors='replace')}")
        return result.stdout.decode()

    def create_enroll_token(self, expires_in_s=None):
        """A one-time agent enrollment token ("vse_...") through the API."""
        body = {} if expires_in_s is None else {"expires_in_s": expires_in_s}
        return self.api("POST", "/api/v1/enroll-tokens", body, expect=201)["token"]

    def create_ticket(self, ref, title="interop", severity="non-blocking"):
        return self.api("POST", "/api/v1/tickets",
                        {"ref": ref, "title": title, "severity": severity}, expect=201)

    def create_link(self, ref, **options):
        """An upload link to ticket `ref`: {"id","token","upload_url",...}."""
        return self.api("POST", f"/api/v1/tickets/{ref}/links", options, expect=201)

    def upload_through_link(self, ref, data, filename="logs.tar.zst.age", link=None):
        """`data` dropped on ticket `ref` through an upload link (a new one
        unless given), in one tus PATCH: (bundle id, its SHA-256, the link)."""
        link = link or self.create_link(ref)
        name = base64.b64encode(filename.encode()).decode()
        status, headers, body = self.request(
            "POST", "/api/v1/uploads", token=link["token"],
            headers={"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
                     "Upload-Metadata": f"filename {name}"})
        if status != 201:
            raise AssertionError(f"creating the upload: HTTP {status}: {body!r}")
        status, headers, body = self.request(
            "PATCH", headers["location"], data, token=link["token"],
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                     "Content-Type": "application/offset+octet-stream"})
        if status != 204:
            raise AssertionError(f"sending the upload: HTTP {status}: {body!r}")
        return headers["valise-bundle-id"], headers["valise-bundle-sha256"], link

    def another_node(self, workdir):
        """A second node of this server (docs/cluster.md): the same data
        directory, database and tokens, its own port and configuration file
        (NODE_DIR/server.toml, a copy of this one's). Needs a PostgreSQL store:
        an SQLite server refuses a second process on its directory. Not
        started; `start()` runs it."""
        if not self.database_url:
            raise RuntimeError("another_node needs VALISE_TEST_BACKEND=postgresql")
        return ServerNode(self, workdir)

    def bundles(self, ref):
        return self.api("GET", f"/api/v1/tickets/{ref}/bundles", expect=200)

    def peak_rss_kib(self):
        """VmHWM of the running server, in KiB."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise RuntimeError("no VmHWM in /proc/PID/status")


class ServerNode(ServerProcess):
    """Another `valise-server run` of `first`'s installation (another_node)."""

    def __init__(self, first, workdir):
        super().__init__(workdir, binary=first.binary, run_as=first.run_as)
        self.first = first
        self.data = first.data
        self.config_file = self.workdir / "server.toml"

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.database_url = self.first.database_url
        self.admin_token = self.first.admin_token
        self.technician_token = self.first.technician_token
        self.ca = self.first.ca
        # Relative paths in [tls] are the data directory's, so naming it is enough.
        lines = []
        for line in (self.data / "server.toml").read_text().splitlines():
            if line.startswith("data_dir = "):
                line = f"data_dir = {json.dumps(str(self.data))}"
            elif line.startswith("listen = "):
                line = f'listen = "127.0.0.1:{self.port}"'
            lines.append(line)
        self.config_file.write_text("\n".join(lines) + "\n")
        self._ssl = ssl.create_default_context(cafile=str(self.ca))
        self._run_on_a_free_port(self.config_file)

    def location(self):
        return ["--config", str(self.config_file)]


class SharedServerTest(unittest.TestCase):
    """One real valise-server for a whole test class: started before its
    first test, stopped after its last. `config_edits` are its settings
    ({"section.key": "TOML value"}), `workdir_prefix` names its temporary
    directory; a subclass that needs more calls super().setUpClass()."""
    config_edits = {}
    workdir_prefix = "valise-"

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix=cls.workdir_prefix)
        cls.server = ServerProcess(cls.tmp.name, config_edits=cls.config_edits)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()
