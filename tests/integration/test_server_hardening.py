"""What an attacker on the internet tried against the real valise-server, kept
fixed (issue 13, items 1-3): request smuggling through Transfer-Encoding and
ambiguous framing, refusals that grew the database, guessing tokens, idle
connections that locked everyone out, and the real client address behind a
load balancer (HAProxy from Debian, PROXY protocol v1 and v2).

Connections come from chosen loopback addresses (127.0.0.0/8 is all local) to
play several clients. Python 3 standard library, openssl and haproxy.
ctest passes VALISE_SERVER_BIN; a missing program fails the tests."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
import test_server_api as api  # noqa: E402
from server_process import free_port  # noqa: E402
from test_server_agents import Agent  # noqa: E402


def raw_tls(server, source="127.0.0.1", port=None, context=None, timeout=10):
    """A TLS connection to the server from the loopback address `source`."""
    sock = socket.create_connection(("127.0.0.1", port or server.port), timeout=timeout,
                                    source_address=(source, 0))
    return (context or server.tls_context()).wrap_socket(sock, server_hostname="localhost")


def read_responses(conn, limit=4, timeout=5):
    """Every response the server sends on `conn` until it closes (or `limit`),
    as (status, headers, body) with a Content-Length body each."""
    conn.settimeout(timeout)
    data, out = b"", []
    while len(out) < limit:
        while b"\r\n\r\n" not in data:
            try:
                chunk = conn.recv(65536)
            except (socket.timeout, ssl.SSLError, ConnectionResetError):
                return out, False
            if not chunk:
                return out, True
            data += chunk
        head, data = data.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        out.append((int(lines[0].split()[1]), headers, data[:length]))
        data = data[length:]
    return out, False


def closed_within(conn, seconds):
    """Whether the server closes `conn` (EOF or reset) within `seconds`."""
    conn.settimeout(seconds)
    try:
        while conn.recv(4096):
            pass
        return True
    except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
        return True
    except socket.timeout:
        return False


class HardeningTest(api.ServerTest):
    """A server per class (api.ServerTest), and its whole audit trail."""

    def audit(self, action=None):
        records = self.server.api("GET", "/api/v1/audit?limit=10000", token=self.server.admin_token,
                                  expect=200)
        return [r for r in records if action is None or r["action"] == action]


class Smuggling(HardeningTest):
    """RFC 9112 §6: a body whose end is in doubt is answered and the connection
    closed, so nothing after it runs as a request."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.server.create_ticket("T-2")

    def smuggle(self, framing):
        inner = (f"GET /api/v1/tickets/T-2 HTTP/1.1\r\nHost: localhost\r\n"
                 f"Authorization: Bearer {self.server.technician_token}\r\n\r\n")
        outer = (f"POST /healthz HTTP/1.1\r\nHost: localhost\r\n{framing}"
                 f"Content-Type: text/plain\r\n\r\n{inner}")
        with raw_tls(self.server) as conn:
            conn.sendall(outer.encode())
            return read_responses(conn)

    def test_unknown_transfer_codings_are_refused_and_nothing_runs_after(self):
        for coding, status in (("xchunked", 400), ("gzip", 400), ("chunked, identity", 400),
                               ("identity", 400), ("gzip, chunked", 501)):
            with self.subTest(coding=coding):
                answers, closed = self.smuggle(f"Transfer-Encoding: {coding}\r\n")
                self.assertEqual([a[0] for a in answers], [status], answers)
                self.assertTrue(closed, "the connection stayed open after an ambiguous body")
                self.assertNotIn(b"T-2", answers[0][2])
                self.assertEqual(answers[0][1].get("connection"), "close")

    def test_two_content_lengths_and_a_missing_host_get_400(self):
        for head in ("POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
                     "Content-Length: 2\r\n\r\nab",
                     "GET /healthz HTTP/1.1\r\n\r\n",
                     "POST /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"):
            with self.subTest(head=head[:60]), raw_tls(self.server) as conn:
                conn.sendall(head.encode())
                answers, closed = read_responses(conn)
                self.assertEqual([a[0] for a in answers], [400], answers)
                self.assertIn(b"bad_request", answers[0][2])
                self.assertTrue(closed)

    def test_chunked_bodies_still_work(self):
        body = json.dumps({"ref": "T-chunked", "title": "chunked"}).encode()
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
        head = (f"POST /api/v1/tickets HTTP/1.1\r\nHost: localhost\r\n"
                f"Authorization: Bearer {self.server.technician_token}\r\n"
                f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
        with raw_tls(self.server) as conn:
            conn.sendall(head.encode() + chunked)
            answers, _ = read_responses(conn, limit=1)
        self.assertEqual(answers[0][0], 201, answers)


class RefusedTraffic(HardeningTest):
    """Unauthenticated traffic costs bounded storage: refusals are folded per
    source and interval, and keep only a short escaped prefix of the path."""
    config_edits = {"audit.refusal_interval": '"2s"', "auth.failure_burst": "100000"}

    def test_300_long_anonymous_paths_add_a_few_small_records(self):
        before = self.audit("auth.refused")
        path = "/api/v1/tickets/" + "a" * 15500
        request = f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode()
        with raw_tls(self.server, source="127.0.0.7") as conn:
            statuses = []
            for _ in range(6):  # 300 requests, 50 per round trip
                conn.sendall(request * 50)
                answers, _ = read_responses(conn, limit=50, timeout=20)
                statuses += [a[0] for a in answers]
        self.assertEqual(statuses, [401] * 300)
        time.sleep(2.5)  # the interval ends; its summary is written on the next tick
        deadline = time.monotonic() + 10
        while True:
            new = [r for r in self.audit("auth.refused") if r not in before]
            counted = sum(r["detail"].get("count", 1) for r in new
                          if r["detail"].get("from") == "127.0.0.7")
            if counted >= 300 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        mine = [r for r in new if r["detail"].get("from") == "127.0.0.7"]
        self.assertEqual(counted, 300, mine)
        self.assertLessEqual(len(mine), 2, mine)
        self.assertLess(sum(len(json.dumps(r)) for r in mine), 2000)
        first = next(r for r in mine if "route" in r["detail"])
        self.assertEqual(first["detail"]["address"], "127.0.0.7")
        self.assertLessEqual(len(first["detail"]["route"]), 100)
        self.assertEqual(first["detail"]["route_length"], len("GET " + path))
        self.server._command("audit", "verify", "--data", str(self.server.data))  # exits 0


class Throttle(HardeningTest):
    """Failed authentications per address: a burst, then 429 with Retry-After;
    other addresses and agents' certificates are not held back."""
    config_edits = {"auth.failure_burst": "5", "auth.failure_window": '"1m"'}

    def attempt(self, token, source):
        with raw_tls(self.server, source=source) as conn:
            conn.sendall((f"GET /api/v1/tickets HTTP/1.1\r\nHost: localhost\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n").encode())
            answers, _ = read_responses(conn, limit=1)
            return answers[0]

    def test_guessing_tokens_is_throttled_per_address(self):
        agent = Agent(self.server, self.tmp.name, "behind-the-same-address").enrolled()
        statuses = [self.attempt(f"vst_guess{i}", "127.0.0.11")[0] for i in range(8)]
        self.assertEqual(statuses, [401] * 5 + [429] * 3)
        status, headers, body = self.attempt("vst_guess", "127.0.0.11")
        self.assertEqual(status, 429)
        self.assertGreater(int(headers["retry-after"]), 0)
        self.assertEqual(json.loads(body)["error"], "too_many_failures")
        # Even a good token waits: a throttled address learns nothing.
        self.assertEqual(self.attempt(self.server.technician_token, "127.0.0.11")[0], 429)
        # Another address is not held back, nor is an agent's certificate.
        self.assertEqual(self.attempt(self.server.technician_token, "127.0.0.12")[0], 200)
        with raw_tls(self.server, source="127.0.0.11", context=agent.context()) as conn:
            conn.sendall(b"POST /api/v1/agent/heartbeat HTTP/1.1\r\nHost: localhost\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 19\r\n\r\n"
                         b'{"hostname": "db1"}')
            answers, _ = read_responses(conn, limit=1)
        self.assertEqual(answers[0][0], 200, answers)
        metrics = self.server.request("GET", "/metrics", token=self.server.technician_token)[2].decode()
        self.assertIn("valise_requests_throttled_total 5", metrics)


class IdleConnections(HardeningTest):
    """300 connections that never send a byte no longer lock anyone out: the
    per-address cap sheds their oldest, and each is cut after the handshake
    timeout; authenticated agents are not counted against their address."""
    config_edits = {"server.handshake_timeout": '"3s"', "server.max_connections_per_address": "8",
                    "server.max_connections_per_credential": "4"}

    def test_an_idle_flood_from_one_address_does_not_lock_others_out(self):
        flood = []
        try:
            for _ in range(300):
                flood.append(socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                                      source_address=("127.0.0.21", 0)))
            time.sleep(0.5)
            started = time.monotonic()
            status, _, body = self.server.request("GET", "/api/v1/tickets",
                                                  token=self.server.technician_token)
            self.assertEqual(status, 200, body)
            self.assertLess(time.monotonic() - started, 5)
            # The flood's own connections were closed down to the cap.
            open_ones = sum(not closed_within(s, 0.2) for s in flood)
            self.assertLessEqual(open_ones, 8)
            metrics = self.server.request("GET", "/metrics", token=self.server.technician_token)[2].decode()
            shed = int(next(line.split()[1] for line in metrics.splitlines()
                            if line.startswith("valise_connections_shed_total")))
            self.assertGreaterEqual(shed, 292)
        finally:
            for s in flood:
                s.close()

    def test_silent_connections_are_cut_after_the_handshake_timeout(self):
        silent = socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                          source_address=("127.0.0.22", 0))
        started = time.monotonic()
        self.assertTrue(closed_within(silent, 15))
        self.assertLess(time.monotonic() - started, 10)
        # A TLS connection that never sends a request head is cut too.
        with raw_tls(self.server, source="127.0.0.22") as conn:
            started = time.monotonic()
            self.assertTrue(closed_within(conn, 15))
            self.assertLess(time.monotonic() - started, 10)

    def test_many_agents_behind_one_address_are_not_capped(self):
        agents = [Agent(self.server, self.tmp.name, f"site-agent-{i}").enrolled()
                  for i in range(12)]
        answers, threads = {}, []

        def poll(agent):
            with raw_tls(self.server, source="127.0.0.23", context=agent.context(),
                         timeout=60) as conn:
                conn.sendall(b"GET /api/v1/agent/jobs?wait=20 HTTP/1.1\r\nHost: localhost\r\n\r\n")
                got, _ = read_responses(conn, limit=1, timeout=60)
                answers[agent.id] = got[0][0] if got else None

        def parked():
            metrics = self.server.request("GET", "/metrics",
                                          token=self.server.technician_token)[2].decode()
            return int(next(line.split()[1] for line in metrics.splitlines()
                            if line.startswith("valise_job_polls_waiting ")))

        before = parked()
        for agent in agents:
            threads.append(threading.Thread(target=poll, args=(agent,)))
            threads[-1].start()
            # One handshake at a time: each is anonymous until it ends, and
            # nine at once on a slow machine would shed one. Its poll parked,
            # it is an agent's. The waits (20 s) outlast the twelve's arrival.
            deadline = time.monotonic() + 30
            while parked() < before + len(threads):
                self.assertLess(time.monotonic(), deadline, f"poll {len(threads)} never waited")
                time.sleep(0.02)
        # All 12 wait, from one address whose cap is 8.
        flood = [socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                          source_address=("127.0.0.23", 0)) for _ in range(20)]
        for t in threads:
            t.join(60)
        for s in flood:
            s.close()
        self.assertEqual(sorted(answers.values()), [200] * 12, answers)


    def keep(self, count, request, context=None, source="127.0.0.24"):
        """`count` connections, each having sent `request` and read its answer;
        returns them with their statuses."""
        held, statuses = [], []
        for _ in range(count):
            conn = raw_tls(self.server, source=source, context=context)
            conn.sendall(request)
            got, _ = read_responses(conn, limit=1)
            statuses.append(got[0][0] if got else None)
            held.append(conn)
            time.sleep(0.02)
        return held, statuses

    def test_a_revoked_agent_holds_no_place(self):
        agent = Agent(self.server, self.tmp.name, "revoked-holder").enrolled()
        self.server.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        held, statuses = self.keep(
            12, b"GET /api/v1/agent/jobs HTTP/1.1\r\nHost: localhost\r\n\r\n", agent.context())
        try:
            self.assertEqual(statuses, [403] * 12)
            # Its certificate passed the handshake, but it authenticates nobody:
            # the connections stay anonymous, capped per address (8).
            closed = sum(closed_within(c, 0.5) for c in held[:4])
            self.assertEqual(closed, 4)
        finally:
            for c in held:
                c.close()

    def test_one_credential_cannot_hold_every_place(self):
        ref = f"T-cred-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(ref)
        link = self.server.create_link(ref)["token"]
        status, headers, _ = self.server.request(
            "POST", "/api/v1/uploads", token=link,
            headers={"Tus-Resumable": "1.0.0", "Upload-Length": "100"})
        self.assertEqual(status, 201)
        head = (f"HEAD {headers['location']} HTTP/1.1\r\nHost: localhost\r\n"
                f"Tus-Resumable: 1.0.0\r\nAuthorization: Bearer {link}\r\n\r\n").encode()
        held, statuses = self.keep(10, head, source="127.0.0.25")
        try:
            self.assertEqual(statuses, [200] * 10)
            closed = [closed_within(c, 0.5) for c in held]
            self.assertEqual(closed, [True] * 6 + [False] * 4)  # that link's oldest went
            # Another credential from the same address is not affected.
            self.assertEqual(self.server.request("GET", "/api/v1/tickets",
                                                 token=self.server.technician_token)[0], 200)
        finally:
            for c in held:
                c.close()


def listen_queue(port):
    """Connections waiting in the kernel's accept queue of the server's
    listening socket (ss: Recv-Q of a LISTEN socket)."""
    out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True,
                         check=True).stdout
    return sum(int(line.split()[1]) for line in out.splitlines())


class PausedHandshake:
    """A TLS handshake started (ClientHello sent, the server's flight
    answered) and left waiting for the client's last flight."""

    def __init__(self, server, source):
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=10,
                                             source_address=(source, 0))
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = server.tls_context().wrap_bio(self.incoming, self.outgoing,
                                                 server_hostname="localhost")
        self._step()  # the ClientHello

    def _step(self):
        try:
            self.tls.do_handshake()
            done = True
        except ssl.SSLWantReadError:
            done = False
        if pending := self.outgoing.read():
            self.sock.sendall(pending)
        return done

    def _feed(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionResetError("closed by the server")
        self.incoming.write(chunk)

    def get(self, path):
        """Finishes the handshake, sends GET `path`, returns the status."""
        while not self._step():
            self._feed()
        self.tls.write(f"GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        self.sock.sendall(self.outgoing.read())
        data = b""
        while b"\r\n" not in data:
            self._feed()
            try:
                data += self.tls.read(65536)
            except ssl.SSLWantReadError:
                pass
        return int(data.split()[1])

    def close(self):
        self.sock.close()


class HandshakeGate(HardeningTest):
    """Past max_handshakes the server accepts nothing more: newcomers wait in
    the listen backlog instead of being accepted and then cut mid-handshake
    (agents reconnecting at once after a restart); silent ones holding the
    gate are closed after 2 s; the anonymous budget sheds idle connections
    that finished their handshake before one still in it."""
    config_edits = {"server.max_handshakes": "4", "server.max_anonymous_connections": "8",
                    "server.max_connections_per_address": "64"}

    def test_newcomers_wait_in_the_backlog_and_a_real_client_gets_through(self):
        silent = []
        try:
            for i in range(10):
                silent.append(socket.create_connection(
                    ("127.0.0.1", self.server.port), timeout=5,
                    source_address=(f"127.0.0.{41 + i}", 0)))
            time.sleep(0.5)
            # Four hold the gate; the other six were not accepted.
            self.assertEqual(listen_queue(self.server.port), 6)
            started = time.monotonic()
            with raw_tls(self.server, source="127.0.0.51", timeout=15) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
                answers, _ = read_responses(conn, limit=1, timeout=15)
            self.assertEqual(answers[0][0], 200, answers)
            # The silent ones were closed after 2 s at the gate, not after
            # handshake_timeout (10 s).
            self.assertLess(time.monotonic() - started, 8)
            self.assertTrue(all(closed_within(s, 12) for s in silent))  # handshake_timeout
        finally:
            for s in silent:
                s.close()

    def test_a_started_handshake_is_not_cut_for_newcomers(self):
        paused = PausedHandshake(self.server, "127.0.0.61")
        idle = []
        try:
            time.sleep(0.2)
            # Twelve newcomers finish their handshakes and stay idle: past the
            # anonymous budget (8), the ones that finished go first.
            for i in range(12):
                idle.append(raw_tls(self.server, source=f"127.0.0.{62 + i}"))
            self.assertEqual(paused.get("/healthz"), 200)
            open_ones = sum(not closed_within(c, 0.3) for c in idle)
            self.assertLessEqual(open_ones, 7)
        finally:
            paused.close()
            for c in idle:
                c.close()


HAPROXY_CONFIG = """
global
    maxconn 256
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend fe_v1
    bind 127.0.0.1:{v1}
    default_backend be_v1
frontend fe_v2
    bind 127.0.0.1:{v2}
    default_backend be_v2
backend be_v1
    server valise 127.0.0.1:{server} source 127.0.0.31 send-proxy
backend be_v2
    server valise 127.0.0.1:{server} source 127.0.0.31 send-proxy-v2 check-send-proxy check inter 1s
"""


class BehindHaproxy(HardeningTest):
    """Connections from a trusted proxy begin with a PROXY header; the real
    client address is what the audit shows and what limits count."""
    config_edits = {"server.trusted_proxies": '["127.0.0.31"]', "auth.failure_burst": "3"}

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        haproxy = shutil.which("haproxy") or "/usr/sbin/haproxy"
        if not os.path.exists(haproxy):
            raise RuntimeError("haproxy not found: scripts/test installs Debian's haproxy")
        cls.v1, cls.v2 = free_port(), free_port()
        config = Path(cls.tmp.name) / "haproxy.cfg"
        config.write_text(HAPROXY_CONFIG.format(v1=cls.v1, v2=cls.v2, server=cls.server.port))
        cls.haproxy = subprocess.Popen([haproxy, "-db", "-f", str(config)],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", cls.v2), timeout=1).close()
                break
            except OSError:
                if cls.haproxy.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"haproxy did not start: {cls.haproxy.stderr.read()}")
                time.sleep(0.1)

    @classmethod
    def tearDownClass(cls):
        cls.haproxy.terminate()
        cls.haproxy.wait(10)
        super().tearDownClass()

    def through(self, port, source, token):
        with raw_tls(self.server, source=source, port=port) as conn:
            conn.sendall((f"GET /api/v1/tickets HTTP/1.1\r\nHost: localhost\r\n"
                          f"Authorization: Bearer {token}\r\n\r\n").encode())
            answers, _ = read_responses(conn, limit=1)
            return answers[0][0]

    def test_the_audit_and_the_throttle_see_the_real_client(self):
        for port, source in ((self.v1, "127.0.0.41"), (self.v2, "127.0.0.42")):
            with self.subTest(port=port):
                self.assertEqual(self.through(port, source, self.server.technician_token), 200)
                self.assertEqual([self.through(port, source, "vst_wrong") for _ in range(4)],
                                 [401, 401, 401, 429])
                refused = [r["detail"] for r in self.audit("auth.refused")
                           if r["detail"].get("address") == source]
                self.assertTrue(refused, self.audit("auth.refused"))
        # Other clients of the same proxy are not held back by those two.
        self.assertEqual(self.through(self.v2, "127.0.0.43", self.server.technician_token), 200)

    def test_the_proxy_address_must_send_a_header_and_others_cannot(self):
        # The trusted proxy's address without a PROXY header: closed.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                      source_address=("127.0.0.31", 0)) as sock:
            with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError, OSError)):
                self.server.tls_context().wrap_socket(sock, server_hostname="localhost")
        # Anyone else sending one: it is not TLS, the handshake fails.
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5,
                                      source_address=("127.0.0.44", 0)) as sock:
            sock.sendall(b"PROXY TCP4 192.0.2.1 127.0.0.1 1234 443\r\n")
            self.assertTrue(closed_within(sock, 5))
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)


if __name__ == "__main__":
    unittest.main()
