"""Following the helpdesk (issue 16) against the real valise-server: a
stand-in helpdesk written here signs its webhook deliveries as GLPI does
(HMAC-SHA256 over body + timestamp, X-GLPI-signature / X-GLPI-timestamp) and as
Zammad does (X-Hub-Signature "sha1=" HMAC-SHA1 over the body, X-Zammad-Delivery)
and POSTs them to /api/v1/hooks/{connector}. A ticket created there appears
here; a bundle is uploaded through a link; solved there, it is resolved and
purged here after the grace period ("2s"), also across a restart; reopened
within the grace nothing is purged; reopened after, it reopens. Forged, stale
and replayed deliveries are refused and their refusals folded in the audit
trail. Python 3 standard library only; VALISE_SERVER_BIN names the binary."""
import hashlib
import hmac
import json
import sys
import time
import unittest
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from server_process import SharedServerTest  # noqa: E402
from test_server_agents import age_like  # noqa: E402

GLPI_SECRET = "glpi webhook secret, 32 characters+"
ZAMMAD_SECRET = "zammad-hmac-sha1-token"
GRACE = 2  # seconds: grace_period = "2s"

CONNECTORS = f"""
[helpdesk.glpi]
preset = "glpi"
secret = "{GLPI_SECRET}"
grace_period = "{GRACE}s"

[helpdesk.zammad]
preset = "zammad"
secret_file = "zammad.secret"
grace_period = "{GRACE}s"
"""


class StandInHelpdesk:
    """Signs and sends deliveries the way one helpdesk does."""

    def __init__(self, server, connector):
        self.server = server
        self.connector = connector
        self.sent = []

    def body(self, ticket_id, title, status, priority):
        if self.connector == "glpi":
            # GLPI's default payload: the event and the item as its high-level
            # API shows it, the status an object.
            return {"event": "update",
                    "item": {"id": ticket_id, "name": title,
                             "status": {"id": status, "name": "?"}, "priority": priority,
                             "content": "&lt;p&gt;details&lt;/p&gt;"}}
        # Zammad's default payload: the ticket with state and priority by name,
        # and its updated_at, which makes each delivery's body its own.
        updated = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + \
            f".{time.monotonic_ns() % 10**9:09d}Z"
        return {"ticket": {"id": ticket_id, "number": f"310{ticket_id}", "title": title,
                           "state": status, "priority": priority, "updated_at": updated},
                "article": {"body": "details", "internal": False}}

    def headers(self, raw, timestamp=None, delivery=None):
        if self.connector == "glpi":
            timestamp = str(int(time.time())) if timestamp is None else timestamp
            signature = hmac.new(GLPI_SECRET.encode(), raw + timestamp.encode(),
                                 hashlib.sha256).hexdigest()
            return {"X-GLPI-signature": signature, "X-GLPI-timestamp": timestamp,
                    "Content-Type": "application/json"}
        signature = "sha1=" + hmac.new(ZAMMAD_SECRET.encode(), raw, hashlib.sha1).hexdigest()
        return {"X-Hub-Signature": signature, "X-Zammad-Delivery": delivery or str(uuid.uuid4()),
                "X-Zammad-Trigger": "valise", "Content-Type": "application/json"}

    def post(self, raw, headers):
        self.sent.append((raw, headers))
        status, _, data = self.server.request("POST", f"/api/v1/hooks/{self.connector}", raw,
                                              headers=headers)
        return status, json.loads(data) if data else None

    def send(self, ticket_id, status, title="Printer on fire", priority=None, expect=200):
        if priority is None:
            priority = 5 if self.connector == "glpi" else "3 high"
        raw = json.dumps(self.body(ticket_id, title, status, priority)).encode()
        code, answer = self.post(raw, self.headers(raw))
        if code != expect:
            raise AssertionError(f"{self.connector} delivery: expected {expect}, got {code}: "
                                 f"{answer}")
        return answer


class HelpdeskTest(SharedServerTest):
    workdir_prefix = "valise-helpdesk-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        (cls.server.data / "zammad.secret").write_text(ZAMMAD_SECRET + "\n")
        with open(cls.server.data / "server.toml", "a") as config:
            config.write(CONNECTORS)
        cls.server.restart()

    def ticket(self, ref):
        return self.server.api("GET", f"/api/v1/tickets/{ref}", expect=200)

    def upload(self, ref):
        """A bundle dropped through an upload link; its id."""
        return self.server.upload_through_link(ref, age_like(2048, seed=ref.encode()))[0]

    def wait_for(self, ref, status, seconds=GRACE + 8):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            t = self.ticket(ref)
            if t["status"] == status:
                return t
            time.sleep(0.2)
        self.fail(f"ticket {ref} not {status} after {seconds} s: {self.ticket(ref)}")

    def admin_audit(self, action):
        records = self.server.api("GET", "/api/v1/audit?limit=10000",
                                  token=self.server.admin_token, expect=200)
        return [r for r in records if r["action"] == action]


class FollowsTheHelpdesk(HelpdeskTest):
    """The ticket's life, driven by each helpdesk in turn."""

    def helpdesks(self):
        return [(StandInHelpdesk(self.server, "glpi"), 5, 2, 1000 + self.n()),
                (StandInHelpdesk(self.server, "zammad"), "closed", "open", 2000 + self.n())]

    counter = 0

    @classmethod
    def n(cls):
        cls.counter += 1
        return cls.counter

    def test_created_there_appears_here(self):
        for desk, _, reopened, ticket_id in self.helpdesks():
            with self.subTest(helpdesk=desk.connector):
                first = desk.send(ticket_id, 1 if desk.connector == "glpi" else "new",
                                  title="VPN drops every hour")
                self.assertEqual(first["effect"], "created")
                self.assertEqual(first["ticket"], str(ticket_id))
                t = self.ticket(str(ticket_id))
                self.assertEqual(t["title"], "VPN drops every hour")
                self.assertEqual(t["severity"], "blocking")
                self.assertEqual(t["connector"], desk.connector)
                self.assertEqual(t["status"], "open")
                self.assertIn(f"\nhelpdesk  {desk.connector}\n",
                              self.server.valise("ticket", "show", str(ticket_id)))
                # Its clock runs from the delivery, by the calendar's targets.
                blocking_due = t["due_at"]
                self.assertIsNotNone(blocking_due)
                self.assertIsNotNone(t["response_due_at"])
                # The same ticket again, renamed, lower priority: updated, not duplicated.
                again = desk.send(ticket_id, reopened, title="VPN drops",
                                  priority=3 if desk.connector == "glpi" else "1 low")
                self.assertEqual(again["effect"], "updated")
                t = self.ticket(str(ticket_id))
                self.assertEqual((t["title"], t["severity"]), ("VPN drops", "non-blocking"))
                # A lower severity moves the deadline later (4 business days, not 24 h).
                self.assertGreater(t["due_at"], blocking_due)
                listed = self.server.api("GET", "/api/v1/tickets?limit=1000", expect=200)
                self.assertEqual([x["ref"] for x in listed].count(str(ticket_id)), 1)
                events = t["timeline"]
                self.assertEqual(events[0]["kind"], "ticket.created")
                self.assertEqual(events[0]["actor"], f"helpdesk:{desk.connector}")
                self.assertEqual(events[0]["text"],
                                 f"helpdesk {desk.connector} opened the ticket (blocking).")
                self.assertEqual(events[0]["details"]["connector"], desk.connector)
                self.assertIn("delivery", events[0]["details"])
                self.assertEqual(events[1]["kind"], "ticket.updated")

    def test_solved_there_is_purged_here_after_the_grace_period(self):
        for desk, solved, _, ticket_id in self.helpdesks():
            with self.subTest(helpdesk=desk.connector):
                ref = str(ticket_id)
                desk.send(ticket_id, 1 if desk.connector == "glpi" else "new")
                bundle = self.upload(ref)
                scheduled = desk.send(ticket_id, solved)
                self.assertEqual(scheduled["effect"], "resolution scheduled")
                self.assertIsNotNone(scheduled["resolve_at"])
                # Within the grace period: still open, the bundle still there.
                t = self.ticket(ref)
                self.assertEqual((t["status"], t["bundles"]), ("open", 1))
                t = self.wait_for(ref, "resolved")
                event = "solved" if desk.connector == "glpi" else "closed"
                self.assertEqual(t["resolution"], f"{event} in {desk.connector}")
                self.assertEqual(t["bundles"], 0)
                self.assertEqual(self.server.bundles(ref), [])
                kinds = [e["kind"] for e in t["timeline"]]
                self.assertEqual(kinds[-3:], ["helpdesk.resolution_scheduled", "ticket.resolved",
                                              "purge.resolved"])
                purge = t["timeline"][-1]
                self.assertEqual([b["id"] for b in purge["details"]["bundles"]], [bundle])
                self.assertTrue(t["timeline"][-3]["text"].startswith(
                    f"helpdesk {desk.connector} marked the ticket {event}"), t["timeline"][-3])
                self.assertEqual(t["timeline"][-2]["text"],
                                 f"helpdesk {desk.connector} resolved the ticket: "
                                 f"{event} in {desk.connector}")

    def test_reopened_within_the_grace_period_nothing_is_purged(self):
        for desk, solved, reopened, ticket_id in self.helpdesks():
            with self.subTest(helpdesk=desk.connector):
                ref = str(ticket_id)
                desk.send(ticket_id, 1 if desk.connector == "glpi" else "new")
                self.upload(ref)
                desk.send(ticket_id, solved)
                cancelled = desk.send(ticket_id, reopened)
                self.assertEqual(cancelled["effect"], "resolution cancelled")
                time.sleep(GRACE + 2)
                t = self.ticket(ref)
                self.assertEqual((t["status"], t["bundles"]), ("open", 1))
                self.assertEqual(t["timeline"][-1]["kind"], "helpdesk.resolution_cancelled")
                self.assertIn("within the grace period", t["timeline"][-1]["text"])

    def test_reopened_after_the_grace_period_reopens(self):
        for desk, solved, reopened, ticket_id in self.helpdesks():
            with self.subTest(helpdesk=desk.connector):
                ref = str(ticket_id)
                desk.send(ticket_id, 1 if desk.connector == "glpi" else "new")
                desk.send(ticket_id, solved)
                self.wait_for(ref, "resolved")
                answer = desk.send(ticket_id, reopened)
                self.assertEqual(answer["effect"], "reopened")
                t = self.ticket(ref)
                self.assertEqual(t["status"], "open")
                self.assertEqual(t["timeline"][-1]["text"],
                                 f"helpdesk {desk.connector} reopened the ticket.")
                # Solved again: resolved again.
                desk.send(ticket_id, solved)
                self.wait_for(ref, "resolved")

    def test_a_scheduled_resolution_survives_a_restart(self):
        desk = StandInHelpdesk(self.server, "glpi")
        ticket_id = 3000 + self.n()
        desk.send(ticket_id, 1)
        self.upload(str(ticket_id))
        desk.send(ticket_id, 5)
        self.server.restart()
        t = self.wait_for(str(ticket_id), "resolved")
        self.assertEqual(t["bundles"], 0)

    def test_solved_before_valise_heard_of_it(self):
        desk = StandInHelpdesk(self.server, "zammad")
        ticket_id = 4000 + self.n()
        answer = desk.send(ticket_id, "closed")
        self.assertEqual(answer["effect"], "unchanged")
        status, _, _ = self.server.request("GET", f"/api/v1/tickets/{ticket_id}",
                                           token=self.server.technician_token)
        self.assertEqual(status, 404)


class RefusesForgeries(HelpdeskTest):
    # Room for every forgery these tests send before the address is turned
    # away; GuessesAreThrottled checks the default.
    config_edits = {"auth.failure_burst": "1000"}

    def refused(self, desk, raw, headers, status, message):
        code, answer = desk.post(raw, headers)
        self.assertEqual(code, status, answer)
        self.assertIn(message, answer["message"])
        # Never the secret.
        self.assertNotIn(GLPI_SECRET, json.dumps(answer))
        self.assertNotIn(ZAMMAD_SECRET, json.dumps(answer))
        return answer

    def test_wrong_signatures_stale_timestamps_and_replays(self):
        glpi = StandInHelpdesk(self.server, "glpi")
        raw = json.dumps(glpi.body(5001, "Forged", 1, 6)).encode()
        headers = glpi.headers(raw)
        self.refused(glpi, raw.replace(b"Forged", b"Forgeq"), headers, 401,
                     "the signature does not match")
        self.refused(glpi, raw, {**headers, "X-GLPI-signature": "00" * 32}, 401,
                     "the signature does not match")
        stale = glpi.headers(raw, timestamp=str(int(time.time()) - 600))
        self.refused(glpi, raw, stale, 401, "older than the connector's timestamp window (5m)")
        future = glpi.headers(raw, timestamp=str(int(time.time()) + 600))
        self.refused(glpi, raw, future, 401, "ahead of the server's clock")
        no_signature = {k: v for k, v in headers.items() if k != "X-GLPI-signature"}
        self.refused(glpi, raw, no_signature, 401, "no X-GLPI-signature header")
        # The genuine one passes once; sent again, it is a replay.
        code, answer = glpi.post(raw, headers)
        self.assertEqual(code, 200, answer)
        self.refused(glpi, raw, headers, 409, "received already")

        zammad = StandInHelpdesk(self.server, "zammad")
        raw = json.dumps(zammad.body(5002, "Zammad", "new", "2 normal")).encode()
        headers = zammad.headers(raw, delivery="delivery-5002")
        self.refused(zammad, raw, {**headers, "X-Hub-Signature": headers["X-Hub-Signature"][5:]},
                     401, "does not start with \"sha1=\"")
        code, answer = zammad.post(raw, headers)
        self.assertEqual(code, 200, answer)
        self.refused(zammad, raw, headers, 409, "received already")
        # The delivery id is not signed: the same signed body under a new id
        # is a replay too.
        self.refused(zammad, raw, {**headers, "X-Zammad-Delivery": "delivery-5002-again"}, 409,
                     "received already")
        self.assertEqual(self.ticket("5002")["severity"], "semi-blocking")
        # A genuine delivery without the ticket where the preset looks.
        raw = json.dumps({"article": {"body": "no ticket"}}).encode()
        self.refused(zammad, raw, zammad.headers(raw), 400, "ticket id not found at /ticket/id")

    def test_unknown_connectors_and_large_bodies(self):
        status, _, data = self.server.request("POST", "/api/v1/hooks/otrs", b"{}",
                                              headers={"Content-Type": "application/json"})
        self.assertEqual(status, 404, data)
        self.assertEqual(json.loads(data)["error"], "connector_not_found")
        glpi = StandInHelpdesk(self.server, "glpi")
        # Up to 1 MiB is read (helpdesks send whole tickets); more is refused.
        body = glpi.body(5003, "Big", 1, 3)
        body["item"]["content"] = "x" * (200 * 1024)
        raw = json.dumps(body).encode()
        code, answer = glpi.post(raw, glpi.headers(raw))
        self.assertEqual(code, 200, answer)
        raw = b"{" + b" " * (1024 * 1024) + b"}"
        code, answer = glpi.post(raw, glpi.headers(raw))
        self.assertEqual(code, 413, answer)

    def test_refusals_are_folded_in_the_audit_trail(self):
        glpi = StandInHelpdesk(self.server, "glpi")
        before = len(self.admin_audit("hook.refused"))
        raw = b'{"item":{"id":1,"status":{"id":1}}}'
        for _ in range(50):
            code, _ = glpi.post(raw, {"X-GLPI-signature": "bad", "X-GLPI-timestamp": "1",
                                      "Content-Type": "application/json"})
            self.assertEqual(code, 401)
        refused = self.admin_audit("hook.refused")
        # One record for this source and interval, the rest counted for its summary.
        self.assertLessEqual(len(refused) - before, 1, refused[before:])
        self.assertTrue(refused, "no hook.refused record")
        self.assertEqual(refused[-1]["detail"]["route"], "POST /api/v1/hooks/glpi")
        for record in refused:
            self.assertNotIn(GLPI_SECRET, json.dumps(record))



class GuessesAreThrottled(HelpdeskTest):
    """Forged deliveries spend the address's allowance of failed
    authentications ([auth] failure_burst, 20 by default)."""

    def test_an_address_that_keeps_forging_is_turned_away(self):
        glpi = StandInHelpdesk(self.server, "glpi")
        raw = json.dumps(glpi.body(6001, "Forged", 1, 6)).encode()
        forged = {"X-GLPI-signature": "0" * 64, "X-GLPI-timestamp": str(int(time.time())),
                  "Content-Type": "application/json"}
        codes = [glpi.post(raw, forged)[0] for _ in range(21)]
        self.assertEqual(codes, [401] * 20 + [429])
        # Turned away before the signature is checked: a good one waits too.
        status, _, _ = self.server.request("POST", "/api/v1/hooks/glpi", raw,
                                           headers=glpi.headers(raw))
        self.assertEqual(status, 429)
        status, headers, _ = self.server.request("POST", "/api/v1/hooks/glpi", raw,
                                                 headers=glpi.headers(raw))
        self.assertGreater(int(headers["retry-after"]), 0)


if __name__ == "__main__":
    unittest.main()
