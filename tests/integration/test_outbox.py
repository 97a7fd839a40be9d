"""The outbox against the real valise-server (issue 16): deliveries to a
Standard Webhooks receiver written here (a real HTTPS server, its certificate
from a CA this test makes, trusted through the webhook's ca_file) that checks
each signature with the spec's algorithm; a bundle's arrival, a retry after
503, a 400 that fails for good and a retry by hand, a purge's receipt, and a
server killed (SIGKILL) while deliveries wait, which all arrive once after a
restart. Python 3 standard library and the openssl command; VALISE_SERVER_BIN
and VALISE_BIN name the binaries (ctest sets them)."""
import base64
import hashlib
import hmac
import http.server
import json
import os
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from https_stand_in import HttpsStandIn, make_certificates  # noqa: E402
from server_process import ServerProcess, free_port  # noqa: E402
from test_server_agents import age_like  # noqa: E402

SECRET = "whsec_" + base64.b64encode(b"valise outbox test secret 32 by.").decode()
WAIT = 20  # seconds for a delivery to arrive


def verify_signature(secret, headers, body):
    """The Standard Webhooks check, as the spec writes it: HMAC-SHA256 under
    the base64 key after "whsec_", over "id.timestamp.body", any of the
    space-separated "v1,<base64>" signatures."""
    key = base64.b64decode(secret[len("whsec_"):])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected)
               for s in headers["webhook-signature"].split(" "))


class Receiver(HttpsStandIn):
    """An HTTPS webhook receiver: answers each delivery with the next status
    planned for its ticket (200 when none is), records every signed delivery
    it accepted, counts every request."""

    def __init__(self, directory, port):
        super().__init__(directory, port)
        self.deliveries = []  # (headers, body dict) of the 2xx-answered ones
        self.requests = 0
        self.bad_signatures = 0
        self.plan = {}  # ticket -> [status, ...]

    def handler(self):
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                headers = {k.lower(): v for k, v in self.headers.items()}
                payload = json.loads(body)
                with receiver.lock:
                    receiver.requests += 1
                    signed = verify_signature(SECRET, headers, body) and \
                        abs(time.time() - int(headers["webhook-timestamp"])) < 300
                    planned = receiver.plan.get(payload["data"].get("ticket"), [])
                    status = 401 if not signed else (planned.pop(0) if planned else 200)
                    if not signed:
                        receiver.bad_signatures += 1
                    if status == 200:
                        receiver.deliveries.append((headers, payload))
                self.send_response(status)
                if status == 503:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", "0")
                self.end_headers()

        return Handler

    def of_ticket(self, ref, event=None):
        with self.lock:
            return [(h, p) for h, p in self.deliveries
                    if p["data"].get("ticket") == ref and (event is None or p["type"] == event)]

    def wait_for(self, ref, event, count=1):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = self.of_ticket(ref, event)
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} {event} deliveries for {ref} expected; got "
                             f"{self.of_ticket(ref)}")


class OutboxServer(ServerProcess):
    """A server with short backoffs and a [webhooks.receiver]."""

    def __init__(self, workdir, webhook_port, ca_file):
        super().__init__(workdir, config_edits={"outbox.min_backoff": '"1s"',
                                                "outbox.max_backoff": '"2s"',
                                                "outbox.give_up_after": '"1h"'})
        self.extra = (f'\n[webhooks.receiver]\n'
                      f'url = "https://127.0.0.1:{webhook_port}/hooks/valise"\n'
                      f'secret = "{SECRET}"\nca_file = "{ca_file}"\n')

    def _edit_config(self):
        super()._edit_config()
        with open(self.data / "server.toml", "a") as f:
            f.write(self.extra)


class OutboxTest(unittest.TestCase):
    receiver_up = True

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-outbox-")
        cls.dir = Path(cls.tmp.name)
        make_certificates(cls.dir)
        cls.receiver = Receiver(cls.dir, free_port())
        if cls.receiver_up:
            cls.receiver.start()
        cls.server = OutboxServer(cls.dir / "server", cls.receiver.port, cls.dir / "ca.pem")
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.receiver.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.ref = f"{self._testMethodName[5:30]}-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(self.ref, title="printer on fire", severity="blocking")

    def upload(self, size=3000, filename="logs.tar.zst.age", seed=b"x"):
        """A bundle through an upload link: (bundle id, sha256, link)."""
        return self.server.upload_through_link(self.ref, age_like(size, seed), filename)

    def outbox(self, query=""):
        return [e for e in self.server.api("GET", "/api/v1/outbox" + query, expect=200)
                if e["ticket"] == self.ref]

    def wait_outbox(self, predicate, what):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            entries = self.outbox()
            if predicate(entries):
                return entries
            time.sleep(0.2)
        raise AssertionError(f"outbox never showed {what}: {self.outbox()}")

    def audit(self, action):
        return [r for r in self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200)
                if r["action"] == action]


class Deliveries(OutboxTest):
    def test_a_bundle_arrival_is_delivered_signed(self):
        bundle, sha256, link = self.upload(size=4000)
        [(headers, payload)] = self.receiver.wait_for(self.ref, "bundle.arrived")
        self.assertTrue(headers["webhook-id"].startswith("msg_"), headers)
        self.assertEqual(headers["content-type"], "application/json")
        self.assertRegex(payload["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        data = payload["data"]
        self.assertEqual(data["ticket"], self.ref)
        self.assertEqual(data["bundle"], bundle)
        self.assertEqual(data["sha256"], sha256)
        self.assertEqual(data["size"], 4000)
        self.assertEqual(data["filename"], "logs.tar.zst.age")
        self.assertEqual(data["uploader"], f"link:{link['id']}")
        self.assertEqual(self.receiver.bad_signatures, 0)
        # Delivered entries leave the list; the trail keeps the delivery.
        self.wait_outbox(lambda entries: entries == [], "no pending entry")
        [record] = self.audit("outbox.delivered")
        self.assertEqual(record["detail"]["id"], headers["webhook-id"])
        self.assertEqual(record["detail"]["target"], "receiver")
        self.assertEqual(record["detail"]["status"], 200)
        self.assertNotIn(SECRET[6:], json.dumps(record))
        told = [e["text"] for e in self.server.api("GET", f"/api/v1/tickets/{self.ref}",
                                                   expect=200)["timeline"]
                if e["kind"] == "outbox.delivered"]
        self.assertEqual(told, [f"bundle.arrived {headers['webhook-id']} delivered to receiver."])
        delivered = self.server.api("GET", "/api/v1/outbox?delivered=1", expect=200)
        self.assertIn(headers["webhook-id"], [e["id"] for e in delivered])
        # The secret is in no log line, no response, no printed configuration.
        key_text = SECRET[len("whsec_"):]
        self.assertNotIn(key_text, self.server.log_path.read_text())
        self.assertNotIn(key_text, json.dumps(delivered))
        printed = self.server.command("config", *self.server.location())
        self.assertIn("Configured: receiver.", printed)
        self.assertNotIn(key_text, printed)

    def test_503_then_200_is_delivered_after_a_retry(self):
        self.receiver.plan[self.ref] = [503, 503]
        self.upload()
        [(headers, _)] = self.receiver.wait_for(self.ref, "bundle.arrived")
        self.assertEqual(self.receiver.plan[self.ref], [])
        self.wait_outbox(lambda entries: entries == [], "the entry delivered")
        [record] = self.audit("outbox.delivered")
        self.assertEqual(record["detail"]["attempts"], 3)
        self.assertEqual(record["detail"]["id"], headers["webhook-id"])

    def test_400_fails_for_good_then_retry_now(self):
        self.receiver.plan[self.ref] = [400]
        self.upload()
        [entry] = self.wait_outbox(
            lambda entries: len(entries) == 1 and entries[0]["state"] == "failed", "a failure")
        self.assertEqual(entry["target"], "receiver")
        self.assertEqual(entry["event"], "bundle.arrived")
        self.assertEqual(entry["attempts"], 1)
        self.assertEqual(entry["last_status"], 400)
        self.assertIn("400", entry["last_error"])
        self.assertIsNone(entry["next_attempt_at"])
        [given_up] = self.audit("outbox.given_up")
        self.assertEqual(given_up["detail"]["status"], 400)
        self.assertEqual(self.receiver.of_ticket(self.ref), [])
        metrics = self.server.request("GET", "/metrics", token=self.server.technician_token)[2]
        self.assertRegex(metrics.decode(), r'valise_outbox_failed\{target="receiver"\} [1-9]')
        # The valise command shows it, and retries it.
        listed = run_valise(self, "outbox")
        self.assertIn(entry["id"], listed)
        self.assertIn("failed", listed)
        self.assertIn("HTTP 400", listed)
        out = run_valise(self, "outbox", "retry", entry["id"])
        self.assertIn(entry["id"], out)
        [(headers, _)] = self.receiver.wait_for(self.ref, "bundle.arrived")
        self.assertEqual(headers["webhook-id"], entry["id"])
        self.wait_outbox(lambda entries: entries == [], "the retried entry delivered")
        self.assertEqual(len(self.audit("outbox.retried")), 1)
        # A delivered one is not retried; an unknown one is not found.
        status, _, body = self.server.request("POST", f"/api/v1/outbox/{entry['id']}/retry",
                                              token=self.server.technician_token)
        self.assertEqual(status, 409, body)
        status, _, body = self.server.request("POST", "/api/v1/outbox/msg_nope/retry",
                                              token=self.server.technician_token)
        self.assertEqual(status, 404, body)
        self.assertEqual(json.loads(body)["error"], "delivery_not_found")

    def test_a_purge_on_resolve_sends_its_receipt(self):
        bundle, sha256, _ = self.upload(size=5000, seed=b"purge")
        self.receiver.wait_for(self.ref, "bundle.arrived")
        self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", {}, expect=200)
        [(_, payload)] = self.receiver.wait_for(self.ref, "bundles.purged")
        data = payload["data"]
        self.assertEqual(data["cause"], "purge.resolved")
        self.assertEqual(data["bundles"], [{"id": bundle, "size": 5000, "sha256": sha256}])
        self.assertIsInstance(data["purged_at"], int)

    def test_outbox_needs_a_technician(self):
        status, _, _ = self.server.request("GET", "/api/v1/outbox")
        self.assertEqual(status, 401)


def run_valise(test, *args):
    valise = os.environ.get("VALISE_BIN")
    if not valise or not Path(valise).is_file():
        raise RuntimeError("VALISE_BIN must name the valise binary")
    env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
    env.update(HOME=str(test.dir), XDG_CONFIG_HOME=str(test.dir / "config"))
    result = subprocess.run([valise, *args, "--server", test.server.url, "--ca",
                             str(test.server.ca), "--token", test.server.technician_token],
                            capture_output=True, timeout=60, env=env)
    test.assertEqual(result.returncode, 0, result.stderr.decode())
    return result.stdout.decode()


class CrashRecovery(OutboxTest):
    receiver_up = False  # down until the server has been killed

    def test_killed_with_pending_deliveries_all_arrive_once(self):
        uploaded = [self.upload(seed=bytes([i])) for i in range(3)]
        # One attempt per backoff for the unreachable target, the others
        # waiting with it, each saying why.
        entries = self.wait_outbox(
            lambda entries: len(entries) == 3 and all(e["last_error"] for e in entries)
            and sum(e["attempts"] for e in entries) >= 2, "three entries waiting")
        self.assertTrue(all(e["state"] == "pending" for e in entries), entries)
        self.assertEqual(self.receiver.requests, 0)
        self.server.process.kill()  # SIGKILL: no chance to finish anything
        self.server.process.wait()
        self.receiver.start()
        self.server.run()
        found = self.receiver.wait_for(self.ref, "bundle.arrived", count=3)
        time.sleep(3)  # past a retry or two: nothing arrives again
        found = self.receiver.of_ticket(self.ref)
        ids = [h["webhook-id"] for h, _ in found]
        self.assertEqual(len(ids), 3, found)
        self.assertEqual(sorted(ids), sorted(e["id"] for e in entries))
        self.assertEqual(sorted(p["data"]["bundle"] for _, p in found),
                         sorted(b for b, _, _ in uploaded))
        self.wait_outbox(lambda entries: entries == [], "an empty outbox")


if __name__ == "__main__":
    unittest.main()
