"""A full server sheds politely and agents listen: with every place of
`max_connections` held by authenticated connections, a newcomer is answered
503 with a Retry-After of 10 to 20 s, and the real valise-agent, answered
so, waits at least that long before trying again, even with a backoff_max
far below it (its own backoff is capped, the server's wish is not). The
test reads the wait the agent logs; it does not time the agent. Python 3
standard library.

ctest passes VALISE_SERVER_BIN and VALISE_AGENT_BIN; a missing binary fails
the test, never skips it."""
import re
import socket
import ssl
import sys
import tempfile
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

    def test_the_agent_waits_the_retry_after_beyond_its_own_backoff_cap(self):
        site = Path(self.tmp.name) / "site"
        site.mkdir()
        agent = AgentProcess(site, self.server.url,
                             '[profiles.diag]\nremote = true\nfiles = ["/nonexistent/*"]\n')
        agent.enroll(self.server.create_enroll_token(), self.server.ca)
        self.fill_every_place()  # AgentProcess sets backoff_max = "2s"
        agent.start()
        try:
            deadline = time.monotonic() + 60
            while not (found := re.search(r"HTTP 503.*retrying in ([0-9.]+) s", agent.log())):
                self.assertLess(time.monotonic(), deadline, agent.log())
                time.sleep(0.1)
            self.assertGreaterEqual(float(found.group(1)), 10.0, agent.log())
            self.assertLessEqual(float(found.group(1)), 40.0, agent.log())
        finally:
            agent.stop()


if __name__ == "__main__":
    unittest.main()
