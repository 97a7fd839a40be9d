"""Notes back to the helpdesk (issue 16) against the real valise-server: a
stand-in helpdesk written here is both ends of a GLPI and of a Zammad. It
signs and sends their webhooks (test_helpdesk_hooks.StandInHelpdesk) and
serves their REST APIs over HTTPS (its certificate from a CA this test makes,
trusted through the connector's api_ca_file): GLPI's initSession with an
App-Token and a user_token, then ITILFollowup with the Session-Token; Zammad's
ticket_articles with "Token token=". It records every note. A ticket created
there gets a private note when a bundle arrives here, and the purge receipt
when it is solved there; a ticket made in valise writes nothing back; an
expired GLPI session is opened again; the server killed (SIGKILL) while the
helpdesk's API is down delivers every note once after a restart. Python 3
standard library and the openssl command; VALISE_SERVER_BIN names the binary."""
import http.server
import json
import sys
import tempfile
import time
import unittest
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from https_stand_in import HttpsStandIn, make_certificates  # noqa: E402
from server_process import ServerProcess, free_port  # noqa: E402
from test_helpdesk_hooks import GLPI_SECRET, ZAMMAD_SECRET, StandInHelpdesk  # noqa: E402
from test_server_agents import age_like  # noqa: E402

APP_TOKEN = "glpi-app-token-for-valise"
USER_TOKEN = "glpi-user-token-of-the-valise-account"
ZAMMAD_TOKEN = "zammad-api-token-of-valise"
WAIT = 20  # seconds for a note to arrive


class HelpdeskApi(HttpsStandIn):
    """The REST side of the stand-in: GLPI under /apirest.php, Zammad under
    /zammad. Checks each call's credentials as the real API would (401
    otherwise) and records the notes it accepted."""

    def __init__(self, directory, port):
        super().__init__(directory, port)
        self.notes = []  # (helpdesk, ticket id, text, the request's JSON)
        self.sessions = set()
        self.sessions_opened = 0
        self.refused = 0

    def handler(self):
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_):
                pass

            def answer(self, status, body=None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                if self.path == "/apirest.php/initSession":
                    if (self.headers.get("App-Token") != APP_TOKEN or
                            self.headers.get("Authorization") != f"user_token {USER_TOKEN}"):
                        return self.refuse()
                    session = uuid.uuid4().hex
                    with api.lock:
                        api.sessions.add(session)
                        api.sessions_opened += 1
                    return self.answer(200, {"session_token": session})
                self.answer(404, ["ERROR_RESOURCE_NOT_FOUND_NOR_COMMONDBTM", ""])

            def refuse(self):
                with api.lock:
                    api.refused += 1
                self.answer(401, ["ERROR_SESSION_TOKEN_INVALID", "session_token seems invalid"])

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                if self.path == "/apirest.php/ITILFollowup":
                    with api.lock:
                        valid = (self.headers.get("App-Token") == APP_TOKEN and
                                 self.headers.get("Session-Token") in api.sessions)
                    if not valid:
                        return self.refuse()
                    item = body["input"]
                    with api.lock:
                        api.notes.append(("glpi", str(item["items_id"]), item["content"], body))
                    return self.answer(201, {"id": len(api.notes), "message": ""})
                if self.path == "/zammad/api/v1/ticket_articles":
                    if self.headers.get("Authorization") != f"Token token={ZAMMAD_TOKEN}":
                        return self.refuse()
                    with api.lock:
                        api.notes.append(("zammad", str(body["ticket_id"]), body["body"], body))
                    return self.answer(201, {"id": len(api.notes)})
                self.answer(404, {"error": "no route"})

        return Handler

    def expire_sessions(self):
        with self.lock:
            self.sessions.clear()

    def notes_of(self, helpdesk, ticket):
        with self.lock:
            return [n for n in self.notes if n[0] == helpdesk and n[1] == str(ticket)]

    def wait_for(self, helpdesk, ticket, containing, count=1):
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            found = [n for n in self.notes_of(helpdesk, ticket) if containing in n[2]]
            if len(found) >= count:
                return found
            time.sleep(0.1)
        raise AssertionError(f"{count} note(s) with {containing!r} on {helpdesk} {ticket} "
                             f"expected; got {self.notes_of(helpdesk, ticket)}")


def connectors(api_port, ca_file):
    return f"""
[helpdesk.glpi]
preset = "glpi"
secret = "{GLPI_SECRET}"
grace_period = "2s"
api_url = "https://127.0.0.1:{api_port}/apirest.php"
api_token = "{USER_TOKEN}"
app_token = "{APP_TOKEN}"
api_ca_file = "{ca_file}"

[helpdesk.zammad]
preset = "zammad"
secret = "{ZAMMAD_SECRET}"
grace_period = "2s"
api_url = "https://127.0.0.1:{api_port}/zammad"
api_token = "{ZAMMAD_TOKEN}"
api_ca_file = "{ca_file}"
"""


class NotesServer(ServerProcess):
    """A server with short outbox backoffs and the two connectors."""

    def __init__(self, workdir, api_port, ca_file):
        super().__init__(workdir, config_edits={"outbox.min_backoff": '"1s"',
                                                "outbox.max_backoff": '"2s"'})
        self.extra = connectors(api_port, ca_file)

    def _edit_config(self):
        super()._edit_config()
        with open(self.data / "server.toml", "a") as f:
            f.write(self.extra)


class NotesTest(unittest.TestCase):
    api_up = True
    counter = 0

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-notes-")
        cls.dir = Path(cls.tmp.name)
        make_certificates(cls.dir)
        cls.api = HelpdeskApi(cls.dir, free_port())
        if cls.api_up:
            cls.api.start()
        cls.server = NotesServer(cls.dir / "server", cls.api.port, cls.dir / "ca.pem")
        cls.server.start()
        cls.glpi = StandInHelpdesk(cls.server, "glpi")
        cls.zammad = StandInHelpdesk(cls.server, "zammad")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.api.stop()
        cls.tmp.cleanup()

    @classmethod
    def next_id(cls):
        NotesTest.counter += 1
        return 7000 + NotesTest.counter

    def upload(self, ref, size=2048):
        """A bundle dropped through an upload link: (bundle id, sha256)."""
        return self.server.upload_through_link(ref, age_like(size, seed=ref.encode()))[:2]


class NotesBack(NotesTest):
    def test_glpi_gets_a_private_followup_when_a_bundle_arrives(self):
        ticket = self.next_id()
        self.glpi.send(ticket, 1, title="Disk full")
        bundle, sha256 = self.upload(str(ticket))
        (_, _, text, body), = self.api.wait_for("glpi", ticket, bundle)
        self.assertEqual(body["input"]["itemtype"], "Ticket")
        self.assertEqual(body["input"]["items_id"], ticket)
        self.assertEqual(body["input"]["is_private"], 1)
        self.assertIn(sha256, text)
        self.assertIn("2048 bytes", text)
        self.assertIn(f"valise bundle get {bundle}", text)
        # The outbox says it was delivered (once the answer is recorded), to
        # the connector's target.
        deadline = time.monotonic() + WAIT
        while True:
            entries = [(e["target"], e["event"], e["state"])
                       for e in self.server.api("GET", "/api/v1/outbox?delivered=1", expect=200)
                       if e["ticket"] == str(ticket)]
            if entries != [("helpdesk:glpi", "bundle.arrived", "pending")]:
                break
            self.assertLess(time.monotonic(), deadline, entries)
            time.sleep(0.1)
        self.assertEqual(entries, [("helpdesk:glpi", "bundle.arrived", "delivered")])

    def test_zammad_gets_the_purge_receipt_when_solved_there(self):
        ticket = self.next_id()
        self.zammad.send(ticket, "new", title="VPN drops")
        bundle, sha256 = self.upload(str(ticket), size=4096)
        self.api.wait_for("zammad", ticket, bundle)
        self.zammad.send(ticket, "closed")
        (_, _, text, body), = self.api.wait_for("zammad", ticket, "purge receipt")
        self.assertIs(body["internal"], True)
        self.assertEqual(body["type"], "note")
        self.assertIn(f"- {bundle}, 4.0 KiB (4096 bytes), SHA-256 {sha256}", text)
        self.assertIn("the ticket was resolved", text)
        self.assertEqual(self.server.api("GET", f"/api/v1/tickets/{ticket}",
                                         expect=200)["status"], "resolved")

    def test_a_ticket_made_in_valise_writes_nothing_back(self):
        ref = str(self.next_id())
        self.server.create_ticket(ref, title="made here", severity="blocking")
        bundle, _ = self.upload(ref)
        # The next helpdesk ticket's note arrives; this one's never did.
        later = self.next_id()
        self.glpi.send(later, 1)
        later_bundle, _ = self.upload(str(later))
        self.api.wait_for("glpi", later, later_bundle)
        self.assertEqual(self.api.notes_of("glpi", ref) + self.api.notes_of("zammad", ref), [])
        self.assertNotIn(bundle, json.dumps(self.api.notes))

    def test_an_expired_glpi_session_is_opened_again(self):
        first = self.next_id()
        self.glpi.send(first, 1)
        bundle, _ = self.upload(str(first))
        self.api.wait_for("glpi", first, bundle)
        opened = self.api.sessions_opened
        self.api.expire_sessions()
        second = self.next_id()
        self.glpi.send(second, 1)
        bundle, _ = self.upload(str(second))
        self.api.wait_for("glpi", second, bundle)
        self.assertEqual(self.api.sessions_opened, opened + 1)
        self.assertGreaterEqual(self.api.refused, 1)

    def test_secrets_stay_out_of_the_log_and_the_audit_trail(self):
        log = self.server.log_path.read_text(errors="replace")
        audit = json.dumps(self.server.api("GET", "/api/v1/audit?limit=10000",
                                           token=self.server.admin_token, expect=200))
        for secret in (APP_TOKEN, USER_TOKEN, ZAMMAD_TOKEN):
            self.assertNotIn(secret, log)
            self.assertNotIn(secret, audit)


class CrashRecovery(NotesTest):
    api_up = False  # down until the server has been killed

    def test_killed_with_notes_waiting_every_note_arrives_once(self):
        tickets = [self.next_id() for _ in range(3)]
        bundles = []
        for t in tickets:
            self.zammad.send(t, "new")
            bundles.append(self.upload(str(t))[0])
        deadline = time.monotonic() + WAIT
        # Every note waiting for the unreachable API, none delivered: one was
        # tried, the others postponed with it (an unreachable target costs one
        # attempt per backoff, not one per note), so each has an error.
        while True:
            waiting = [e for e in self.server.api("GET", "/api/v1/outbox", expect=200)
                       if e["target"] == "helpdesk:zammad"]
            if (len(waiting) == 3 and all(e["last_error"] for e in waiting)
                    and any(e["attempts"] >= 1 for e in waiting)):
                break
            self.assertLess(time.monotonic(), deadline, waiting)
            time.sleep(0.2)
        self.server.process.kill()  # SIGKILL: no chance to finish anything
        self.server.process.wait()
        self.api.start()
        self.server.run()
        for t, b in zip(tickets, bundles):
            self.api.wait_for("zammad", t, b)
        time.sleep(3)  # longer than the backoff: a second delivery would be here by now
        for t, b in zip(tickets, bundles):
            self.assertEqual(len(self.api.notes_of("zammad", t)), 1, self.api.notes_of("zammad", t))


if __name__ == "__main__":
    unittest.main()
