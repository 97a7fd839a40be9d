"""A full server sheds politely and agents listen: with every place of
`max_connections` held by authenticated connections, a newcomer is answered
503 with a Retry-After of 10 to 20 s, and the real valise-agent, answered
so, waits at least that long before trying again, up to its backoff_max
(the server's wish does not park an agent longer than its operator allows).
The tests read the wait the agent logs; they do not time the agent.

A poll that worked and was cut (a proxy closing an idle connection) is
followed by a reconnection within a second or two, not by the failure
window. Python 3 standard library.

ctest passes VALISE_SERVER_BIN and VALISE_AGENT_BIN; a missing binary fails
the test, never skips it."""
import re
import socket
import ssl
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
from agent_process import AgentProcess  # noqa: E402
from server_process import ServerProcess  # noqa: E402

PLACES = 3


class Busy(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-busy-")
        # The held connections must outlive the test: no request_timeout cut.
        self.server = ServerProcess(self.tmp.name, config_edits={
            "server.max_connections": str(PLACES), "server.request_timeout": '"300s"'})
        self.server.start()
        self.held = []

    def tearDown(self):
        for conn in self.held:
            conn.close()
        self.server.stop()
        self.tmp.cleanup()

    def connect(self):
        context = ssl.create_default_context(cafile=str(self.server.ca))
        raw = socket.create_connection(("127.0.0.1", self.server.port), timeout=30)
        return context.wrap_socket(raw, server_hostname="localhost")

    def fill_every_place(self):
        for _ in range(PLACES):
            conn = self.connect()
            conn.sendall(b"GET /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                         + self.server.technician_token.encode() + b"\r\n\r\n")
            self.assertIn(b" 200 ", conn.recv(65536))
            self.held.append(conn)

    def test_a_full_server_answers_503_with_a_spread_retry_after(self):
        self.fill_every_place()
        waits = set()
        for _ in range(12):
            conn = self.connect()
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer = b""
            while chunk := conn.recv(4096):
                answer += chunk
            conn.close()
            head = answer.split(b"\r\n\r\n")[0].decode()
            self.assertIn(" 503 ", head.splitlines()[0])
            found = re.search(r"(?im)^retry-after: *(\d+)\s*$", head)
            self.assertIsNotNone(found, head)
            waits.add(int(found.group(1)))
        self.assertTrue(all(10 <= w <= 20 for w in waits), waits)
        self.assertGreater(len(waits), 1, "every refusal asked for the same second")

    def first_wait_after_503(self, backoff_max):
        site = Path(self.tmp.name) / "site"
        site.mkdir()
        agent = AgentProcess(site, self.server.url,
                             '[profiles.diag]\nremote = true\nfiles = ["/nonexistent/*"]\n')
        agent.config.write_text(agent.config.read_text().replace(
            'backoff_max = "2s"', f"backoff_max = {backoff_max}"))
        agent.enroll(self.server.create_enroll_token(), self.server.ca)
        self.fill_every_place()
        agent.start()
        try:
            deadline = time.monotonic() + 60
            while not (found := re.search(r"HTTP 503.*retrying in ([0-9.]+) s", agent.log())):
                self.assertLess(time.monotonic(), deadline, agent.log())
                time.sleep(0.1)
            return float(found.group(1)), agent.log()
        finally:
            agent.stop()

    def test_the_agent_waits_the_retry_after(self):
        wait, log = self.first_wait_after_503('"60s"')
        self.assertGreaterEqual(wait, 10.0, log)
        self.assertLessEqual(wait, 40.0, log)

    def test_the_retry_after_is_taken_up_to_the_agents_backoff_max(self):
        wait, log = self.first_wait_after_503('"3s"')
        self.assertLessEqual(wait, 3.0, log)


class CutPolls(unittest.TestCase):
    """Between agent and server, a TCP proxy that closes every connection
    CUT_AFTER seconds after it opened (an idle timeout shorter than the
    agent's poll): each cut poll is followed by a new connection within
    about a second. With the failure window (10 s) three quick
    reconnections in a row would be a 1-in-125 chance."""

    CUT_AFTER = 6.0

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-cut-")
        self.server = ServerProcess(self.tmp.name)
        self.server.start()
        self.opened, self.cut = [], []
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.stopping = False
        threading.Thread(target=self.accept, daemon=True).start()

    def tearDown(self):
        self.stopping = True
        self.listener.close()
        self.server.stop()
        self.tmp.cleanup()

    def accept(self):
        while not self.stopping:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
            with self.lock:
                self.opened.append(time.monotonic())
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()
            threading.Timer(self.CUT_AFTER, self.close, args=(client, upstream)).start()

    @staticmethod
    def pump(source, sink):
        try:
            while data := source.recv(16384):
                sink.sendall(data)
        except OSError:
            pass

    def close(self, client, upstream):
        with self.lock:
            self.cut.append(time.monotonic())
        for s in (client, upstream):
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def test_a_cut_poll_is_followed_by_a_quick_reconnection(self):
        site = Path(self.tmp.name) / "site"
        site.mkdir()
        url = f"https://127.0.0.1:{self.listener.getsockname()[1]}"
        agent = AgentProcess(site, url,
                             '[profiles.diag]\nremote = true\nfiles = ["/nonexistent/*"]\n')
        # Polls longer than the proxy lets a connection live.
        agent.config.write_text(agent.config.read_text().replace(
            'poll_timeout = "5s"', 'poll_timeout = "30s"'))
        agent.enroll(self.server.create_enroll_token(), self.server.ca)
        with self.lock:
            self.opened.clear(), self.cut.clear()
        agent.start()
        try:
            deadline = time.monotonic() + 60
            while len(self.cut) < 4:
                self.assertLess(time.monotonic(), deadline, agent.log())
                time.sleep(0.1)
            time.sleep(2.5)
            with self.lock:
                opened, cut = list(self.opened), list(self.cut)
        finally:
            agent.stop()
        gaps = []
        for at in cut[:4]:
            after = [t - at for t in opened if t >= at]
            self.assertTrue(after, f"no connection after a cut\n{agent.log()}")
            gaps.append(min(after))
        self.assertTrue(all(g < 2.0 for g in gaps), f"{gaps}\n{agent.log()}")
        waits = [float(w) for w in re.findall(r"retrying in ([0-9.]+) s", agent.log())]
        self.assertTrue(waits, agent.log())
        self.assertTrue(all(w <= 1.0 for w in waits), agent.log())


if __name__ == "__main__":
    unittest.main()
