"""Two valise-server nodes of one installation behind Debian's HAProxy, on
loopback (docs/cluster.md, "In front: HAProxy"): node A (ServerProcess) and
node B (its another_node: the same data directory and PostgreSQL database,
its own port), and HAProxy in `mode tcp` sending the PROXY protocol v2 from
its own source address, which the nodes trust (`[server] trusted_proxies`).
HAProxy runs as a child of the test with its configuration in the test's
temporary directory, on a free port. Python 3 standard library only.

Needs VALISE_TEST_BACKEND=postgresql (ctest's `postgresql` fixture) and
haproxy on PATH or in /usr/sbin: missing, the tests fail, never skip."""
import base64
import hashlib
import http.client
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "interop"))
from server_process import ServerProcess, free_port, psql  # noqa: E402

# HAProxy connects to the nodes from this address, the one they trust to send
# a PROXY header. Not 127.0.0.1: the tests also talk to each node directly
# from there, without a header.
PROXY_SOURCE = "127.0.0.2"
AGE_PREFIX = b"age-encryption.org/v1\n-> X25519 dGVzdA\n"
TUS = {"Tus-Resumable": "1.0.0"}
UPLOAD_LOCKS_HELD = ("SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                     "WHERE a.datname = current_database() "
                     "AND a.application_name = 'valise-upload-locks' "
                     "AND l.locktype = 'advisory' AND l.granted")

# `balance first`: every connection goes to node A while its health check
# passes, so a test knows which node serves its PATCH; once A is down, to B.
# The health check is the node's /healthz over TLS, unverified, preceded by
# the PROXY header as every connection from HAProxy must be.
HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode tcp
    timeout connect 2s
    timeout client 120s
    timeout server 120s
    retries 3
    option redispatch
frontend valise
    bind 127.0.0.1:{port}
    default_backend nodes
backend nodes
    balance first
    option httpchk GET /healthz
    default-server source {source} send-proxy-v2 check check-send-proxy check-ssl verify none inter 300ms fall 1 rise 2 maxconn 100
    server a 127.0.0.1:{a}
    server b 127.0.0.1:{b}
"""


def age_like(size, seed=b"x"):
    """Bytes that begin like an age file: all the server checks before storing."""
    block = hashlib.sha256(seed).digest() * 32768  # 1 MiB
    out = bytearray(AGE_PREFIX)
    while len(out) < size:
        out += block
    return bytes(out[:size])


class Cluster:
    """Usage: `with Cluster(workdir) as c: c.a, c.b, c.url`. `config_edits`
    apply to both nodes (node B copies A's server.toml)."""

    def __init__(self, workdir, config_edits=None):
        if os.environ.get("VALISE_TEST_BACKEND") != "postgresql":
            raise RuntimeError("tests/cluster need VALISE_TEST_BACKEND=postgresql (ctest fixture)")
        self.workdir = Path(workdir)
        edits = {"server.trusted_proxies": f'["{PROXY_SOURCE}"]'}
        edits.update(config_edits or {})
        self.a = ServerProcess(self.workdir / "node-a", config_edits=edits)
        self.b = None
        self.haproxy = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *_):
        self.stop()

    def start(self):
        self.a.start()
        self.b = self.a.another_node(self.workdir / "node-b")
        self.b.start()
        self.start_haproxy()

    def start_haproxy(self):
        binary = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.path.exists(binary):
            raise RuntimeError("haproxy not found: apt-get install haproxy (docs/dependencies.md)")
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        config = self.workdir / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(port=self.port, source=PROXY_SOURCE,
                                                a=self.a.port, b=self.b.port))
        self.haproxy_log = self.workdir / "haproxy.log"
        with open(self.haproxy_log, "ab") as log:
            self.haproxy = subprocess.Popen([binary, "-db", "-f", str(config)], stdout=log,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        self.wait_for(lambda: self.request("GET", "/healthz")[0] == 200, "HAProxy to serve")

    def stop(self):
        if self.haproxy and self.haproxy.poll() is None:
            self.haproxy.terminate()
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                self.haproxy.kill()
                self.haproxy.wait()
        for node in (self.b, self.a):
            if node is None:
                continue
            try:
                node.stop()
            except RuntimeError:
                node.process.kill()
                node.process.wait()

    def wait_for(self, condition, what, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            if self.haproxy.poll() is not None:
                raise RuntimeError(f"haproxy exited {self.haproxy.returncode}:\n"
                                   f"{self.haproxy_log.read_text(errors='replace')}")
            try:
                if condition():
                    return
            except (OSError, http.client.HTTPException):
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.1)

    # --- through HAProxy ----------------------------------------------------

    def connect(self, source="127.0.0.1", timeout=30):
        """An HTTPS connection through HAProxy from the loopback address `source`."""
        return http.client.HTTPSConnection(
            "127.0.0.1", self.port, timeout=timeout, source_address=(source, 0),
            context=ssl.create_default_context(cafile=str(self.a.ca)))

    def request(self, method, path, body=None, token=None, headers=None, source="127.0.0.1"):
        """One request through HAProxy: (status, headers lowercased, body)."""
        conn = self.connect(source)
        try:
            all_headers = dict(headers or {})
            if token:
                all_headers["Authorization"] = f"Bearer {token}"
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, \
                response.read()
        finally:
            conn.close()

    def node_holding(self, upload_id):
        """The nodes whose process has the partial upload's file open (which
        one a PATCH streams to)."""
        found = []
        for node in (self.a, self.b):
            fd_dir = Path(f"/proc/{node.process.pid}/fd")
            try:
                targets = [os.readlink(fd) for fd in fd_dir.iterdir()]
            except OSError:
                continue
            if any(t.endswith(f"/uploads/{upload_id}") for t in targets):
                found.append(node)
        return found

    def upload_locks_held(self):
        """How many upload locks the nodes hold: advisory locks granted to
        their locks sessions (application_name valise-upload-locks)."""
        return int(psql(self.a.database_url, UPLOAD_LOCKS_HELD).strip())

    def kill(self, node, sig=signal.SIGKILL):
        """Sends `sig` to the node, waits for it to exit, then until HAProxy
        answers again (from the other node: the killed one is gone) and
        until no upload lock is held (the other node holds none when a test
        kills one). The dead node's database sessions end after it, once
        PostgreSQL reads the end of their connections: until then the
        other node's pg_try_advisory_lock on its upload answers 423."""
        node.process.send_signal(sig)
        node.process.wait(20)
        self.wait_for(lambda: self.request("GET", "/healthz")[0] == 200,
                      "HAProxy to serve from the other node")
        self.wait_for(lambda: self.upload_locks_held() == 0,
                      "the killed node's database sessions to end")


# --- a tus client -------------------------------------------------------------

def create_upload(send, token, length, filename="logs.tar.zst.age"):
    """POST /api/v1/uploads through `send` (a request function); the upload's path."""
    name = base64.b64encode(filename.encode()).decode()
    status, headers, body = send("POST", "/api/v1/uploads", token=token,
                                 headers={**TUS, "Upload-Length": str(length),
                                          "Upload-Metadata": f"filename {name}"})
    if status != 201:
        raise AssertionError(f"creating the upload: HTTP {status}: {body!r}")
    return headers["location"]


def offset_of(send, token, path):
    status, headers, body = send("HEAD", path, token=token, headers=TUS)
    if status != 200:
        raise AssertionError(f"HEAD {path}: HTTP {status}: {body!r}")
    return int(headers["upload-offset"])


def patch(send, token, path, offset, data):
    """One PATCH of `data` at `offset`: (status, headers, body)."""
    return send("PATCH", path, body=data, token=token,
                headers={**TUS, "Upload-Offset": str(offset),
                         "Content-Type": "application/offset+octet-stream"})


class StreamingPatch:
    """A PATCH whose body is sent piece by piece on an open connection
    (`conn`), so that a test can act while it streams."""

    def __init__(self, conn, token, path, offset, total):
        self.conn = conn
        conn.putrequest("PATCH", path)
        for name, value in {**TUS, "Upload-Offset": str(offset), "Content-Length": str(total),
                            "Content-Type": "application/offset+octet-stream",
                            "Authorization": f"Bearer {token}"}.items():
            conn.putheader(name, value)
        conn.endheaders()

    def send(self, data):
        self.conn.send(data)

    def finish(self):
        """The response once the whole body was sent: (status, headers, body)."""
        response = self.conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
