"""A ticket's conversation against the real valise-server (issue 16): comments
(who may write them, their bounds), the resolution text, and the timeline that
GET /api/v1/tickets/{ref} tells in plain words, in order, across resolve,
reopen and resolve again; then the same through the real `valise ticket
comment | resolve | show`. Python 3 standard library only; VALISE_SERVER_BIN
and VALISE_BIN name the binaries (ctest sets them)."""
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from server_process import SharedServerTest  # noqa: E402
from test_server_agents import Agent, age_like  # noqa: E402

RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PASSWORD = "a technician's long password"


class TimelineTest(SharedServerTest):
    """One server per class; each test its own ticket."""
    workdir_prefix = "valise-timeline-"

    def setUp(self):
        self.ref = f"{self._testMethodName[5:40]}-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(self.ref, title="printer on fire", severity="blocking")

    def path(self, tail=""):
        return f"/api/v1/tickets/{self.ref}{tail}"

    def comment(self, text, token=None, expect=201):
        return self.server.api("POST", self.path("/comments"), {"text": text}, token=token,
                               expect=expect)

    def refused(self, body, status=400, token=None, tail="/comments"):
        code, _, data = self.server.request("POST", self.path(tail), body,
                                            token=token or self.server.technician_token,
                                            headers={"Content-Type": "application/json"})
        self.assertEqual(code, status, data)
        return json.loads(data)

    def ticket(self, query=""):
        return self.server.api("GET", self.path(query), expect=200)

    def audit(self):
        records = self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200)
        return [r for r in records]


class Comments(TimelineTest):
    def test_comments_are_stored_listed_and_audited(self):
        first = self.comment("Client says the printer smells of smoke.\nTwo lines.")
        self.assertTrue(first["id"].startswith("cmt_"), first)
        self.assertEqual(first["ticket"], self.ref)
        self.assertEqual(first["author"], "interop")
        self.assertEqual(first["author_kind"], "technician")
        self.assertRegex(first["created_at"], RFC3339)
        self.assertEqual(first["text"], "Client says the printer smells of smoke.\nTwo lines.")
        second = self.comment("Était-ce le toner ? 🔥", token=self.server.admin_token)
        self.assertEqual(second["author_kind"], "admin")
        listed = self.server.api("GET", self.path("/comments"), expect=200)
        self.assertEqual([c["id"] for c in listed], [first["id"], second["id"]])
        self.assertEqual(listed[1]["text"], "Était-ce le toner ? 🔥")
        added = [r for r in self.audit() if r["action"] == "comment.added"]
        self.assertEqual([r["detail"] for r in added],
                         [{"id": first["id"], "text": first["text"]},
                          {"id": second["id"], "text": second["text"]}])
        self.assertEqual(added[0]["actor"], "technician:interop")

    def test_unknown_ticket(self):
        status, _, data = self.server.request("POST", "/api/v1/tickets/NOPE-1/comments",
                                              {"text": "hello"},
                                              token=self.server.technician_token)
        self.assertEqual(status, 404, data)
        self.assertEqual(json.loads(data)["error"], "ticket_not_found")
        status, _, data = self.server.request("GET", "/api/v1/tickets/NOPE-1/comments",
                                              token=self.server.technician_token)
        self.assertEqual(status, 404, data)

    def test_a_resolved_ticket_takes_comments(self):
        self.server.api("POST", self.path("/resolve"), expect=200)
        self.comment("The client confirms it works again.")
        self.assertEqual(self.ticket()["status"], "resolved")

    def test_bounds(self):
        self.assertIn("text is missing", self.refused({})["message"])
        self.assertIn("text must not be empty", self.refused({"text": ""})["message"])
        self.assertIn("text must not be empty", self.refused({"text": " \n\t "})["message"])
        self.assertIn("text must be a string", self.refused({"text": 42})["message"])
        long = self.refused({"text": "é" * 8193})["message"]
        self.assertIn("at most 16384 bytes", long)
        self.comment("é" * 8192)  # exactly 16 KiB
        bad = self.refused(b'{"text": "caf\xe9"}')
        self.assertEqual(bad["error"], "bad_request")
        self.assertIn("text must be UTF-8", bad["message"])
        escape = self.refused({"text": "red\x1b[31m"})["message"]
        self.assertIn("without control characters", escape)
        self.assertIn("resolution must not be empty",
                      self.refused({"resolution": ""}, tail="/resolve")["message"])
        self.assertIn("at most 16384 bytes",
                      self.refused({"resolution": "x" * 16385}, tail="/resolve")["message"])
        # Nothing refused was stored, and the refused resolutions resolved nothing.
        self.assertEqual(len(self.server.api("GET", self.path("/comments"), expect=200)), 1)
        self.assertEqual(self.ticket()["status"], "open")

    def test_links_and_agents_cannot_comment(self):
        link = self.server.create_link(self.ref)["token"]
        error = self.refused({"text": "let me in"}, status=403, token=link)
        self.assertEqual(error["error"], "forbidden")
        work = Path(tempfile.mkdtemp(prefix="agent-", dir=self.tmp.name))
        agent = Agent(self.server, work).enrolled()
        status, _, _ = agent.request("POST", self.path("/comments"), {"text": "me neither"})
        self.assertIn(status, (401, 403))
        status, _, _ = agent.request("GET", self.path("/comments"))
        self.assertIn(status, (401, 403))
        self.assertEqual(self.server.api("GET", self.path("/comments"), expect=200), [])

    def test_a_console_user_comments_under_their_name(self):
        subprocess.run([self.server.binary, "user", "add", "alice", "--data",
                        str(self.server.data)], input=(PASSWORD + "\n").encode(),
                       check=True, capture_output=True, timeout=60)
        status, headers, data = self.server.request(
            "POST", "/api/v1/session", {"user": "alice", "password": PASSWORD})
        self.assertEqual(status, 201, data)
        cookie = headers["set-cookie"].split(";")[0]
        csrf = json.loads(data)["csrf"]
        status, _, data = self.server.request(
            "POST", self.path("/comments"), {"text": "Called the client."},
            headers={"Cookie": cookie, "X-Valise-CSRF": csrf})
        self.assertEqual(status, 201, data)
        made = json.loads(data)
        self.assertEqual((made["author"], made["author_kind"]), ("alice", "user"))
        event = self.ticket()["timeline"][-1]
        self.assertEqual(event["actor"], "user:alice")
        self.assertEqual(event["text"], "alice commented: Called the client.")


class Timeline(TimelineTest):
    def test_the_story_in_order_across_resolve_and_reopen(self):
        bundle, sha256, link = self.server.upload_through_link(self.ref, age_like(3000))
        self.comment("Logs received, looking.")
        resolved = self.server.api("POST", self.path("/resolve"),
                                   {"resolution": "Replaced the fuser.\nTested: OK."}, expect=200)
        self.assertEqual(resolved["ticket"]["resolution"], "Replaced the fuser.\nTested: OK.")
        self.server.api("POST", self.path("/reopen"), expect=200)
        reopened = self.ticket()
        self.assertEqual(reopened["resolution"], "Replaced the fuser.\nTested: OK.")
        self.comment("It smokes again.")
        self.server.api("POST", self.path("/resolve"), {"resolution": "Replaced the printer."},
                        expect=200)
        t = self.ticket()
        self.assertEqual(t["status"], "resolved")
        self.assertEqual(t["resolution"], "Replaced the printer.")
        self.assertIsNone(t["timeline_next"])
        events = t["timeline"]
        kinds = [e["kind"] for e in events]
        self.assertEqual(kinds, [
            "ticket.created", "link.created", "upload.started", "upload.completed",
            "comment.added", "ticket.resolved", "purge.resolved", "ticket.reopened",
            "comment.added", "ticket.resolved", "purge.resolved"])
        seqs = [e["seq"] for e in events]
        self.assertEqual(seqs, sorted(seqs))
        for e in events:
            self.assertEqual(set(e), {"seq", "at", "kind", "actor", "text", "details"})
            self.assertRegex(e["at"], RFC3339)
        by_kind = lambda k: [e for e in events if e["kind"] == k]  # noqa: E731
        self.assertEqual(events[0]["text"], "token interop opened the ticket (blocking).")
        self.assertEqual(events[1]["text"][:33], f"token interop created upload link {link['id']}"[:33])
        completed = by_kind("upload.completed")[0]
        self.assertEqual(completed["actor"], f"link:{link['id']}")
        self.assertEqual(completed["details"]["sha256"], sha256)
        self.assertEqual(completed["details"]["size"], 3000)
        self.assertIn(f"bundle {bundle}", completed["text"])
        self.assertIn(f"SHA-256 {sha256}", completed["text"])
        self.assertEqual([e["text"] for e in by_kind("comment.added")],
                         ["token interop commented: Logs received, looking.",
                          "token interop commented: It smokes again."])
        self.assertEqual([e["text"] for e in by_kind("ticket.resolved")],
                         ["token interop resolved the ticket: Replaced the fuser.\nTested: OK.",
                          "token interop resolved the ticket: Replaced the printer."])
        self.assertEqual(by_kind("ticket.resolved")[0]["details"],
                         {"resolution": "Replaced the fuser.\nTested: OK."})
        purge = by_kind("purge.resolved")
        self.assertEqual(purge[0]["details"]["bundles"],
                         [{"id": bundle, "size": 3000, "sha256": sha256}])
        self.assertIn(f"{bundle} (2.9 KiB, SHA-256 {sha256})", purge[0]["text"])
        self.assertEqual(purge[1]["text"],
                         "Resolving deleted 0 bundle(s) and 0 upload(s) in progress.")
        self.assertEqual(by_kind("ticket.reopened")[0]["text"], "token interop reopened the ticket.")

    def test_resolving_without_text_clears_the_resolution(self):
        self.server.api("POST", self.path("/resolve"), {"resolution": "Fixed."}, expect=200)
        self.server.api("POST", self.path("/reopen"), expect=200)
        self.assertEqual(self.ticket()["resolution"], "Fixed.")
        self.server.api("POST", self.path("/resolve"), expect=200)
        t = self.ticket()
        self.assertIsNone(t["resolution"])
        texts = [e["text"] for e in t["timeline"] if e["kind"] == "ticket.resolved"]
        self.assertEqual(texts, ["token interop resolved the ticket: Fixed.",
                                 "token interop resolved the ticket."])

    def test_long_histories_come_in_pages(self):
        for i in range(7):
            self.comment(f"note {i}")
        first = self.ticket("?timeline_limit=3")
        self.assertEqual(len(first["timeline"]), 3)
        seen = [e["seq"] for e in first["timeline"]]
        cursor = first["timeline_next"]
        self.assertEqual(cursor, seen[-1])
        while cursor is not None:
            page = self.ticket(f"?timeline_limit=3&timeline_after={cursor}")
            seen += [e["seq"] for e in page["timeline"]]
            cursor = page["timeline_next"]
        self.assertEqual(seen, [e["seq"] for e in self.ticket()["timeline"]])
        self.assertEqual(len(seen), 8)  # created and 7 comments
        status, _, data = self.server.request("GET", self.path("?timeline_limit=0"),
                                              token=self.server.technician_token)
        self.assertEqual(status, 400, data)
        self.assertIn("timeline_limit", json.loads(data)["message"])


class TimelineCli(TimelineTest):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.valise = os.environ.get("VALISE_BIN")
        if not cls.valise or not Path(cls.valise).is_file():
            raise RuntimeError("VALISE_BIN must name the valise binary")

    def run_valise(self, *args, stdin=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
        env.update(HOME=self.tmp.name, XDG_CONFIG_HOME=os.path.join(self.tmp.name, "config"))
        return subprocess.run([self.valise, *args, "--server", self.server.url, "--ca",
                               str(self.server.ca), "--token", self.server.technician_token],
                              input=stdin, capture_output=True, timeout=60, env=env)

    def ok(self, *args, stdin=None):
        result = self.run_valise(*args, stdin=stdin)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result.stdout.decode()

    def test_comment_resolve_show(self):
        out = self.ok("ticket", "comment", self.ref, "Client called back.")
        self.assertRegex(out, rf"^commented on ticket {re.escape(self.ref)} \(cmt_\w+\)\n$")
        long = ("word " * 60).strip() + "\nsecond paragraph"
        self.ok("ticket", "comment", self.ref, "--file", "-", stdin=long.encode())
        note = Path(self.tmp.name) / "note.txt"
        note.write_text("From a file.")
        made = json.loads(self.ok("ticket", "comment", self.ref, "--file", str(note), "--json"))
        self.assertEqual(made["text"], "From a file.")
        self.ok("ticket", "resolve", self.ref, "--resolution", "Cleaned the rollers.")
        out = self.ok("ticket", "show", self.ref)
        self.assertIn("status    resolved\n", out)
        self.assertIn("resolution\n  Cleaned the rollers.\n", out)
        lines = out.split("timeline\n", 1)[1].splitlines()
        self.assertRegex(lines[0], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  token interop opened the "
                                   r"ticket \(blocking\)\.$")
        self.assertRegex(lines[1], r"Z  token interop commented: Client called back\.$")
        # The long comment wraps under its sentence, its own line break kept.
        self.assertRegex(lines[2], r"Z  token interop commented: word word")
        self.assertTrue(all(len(line) <= 22 + 100 for line in lines), lines)
        wrapped = [line for line in lines[3:] if line.startswith(" " * 22)]
        self.assertEqual(wrapped[-1].strip(), "second paragraph")
        self.assertTrue(any(line.endswith("token interop resolved the ticket: Cleaned the rollers.")
                            for line in lines), lines)
        shown = json.loads(self.ok("ticket", "show", self.ref, "--json"))
        self.assertEqual(shown["resolution"], "Cleaned the rollers.")
        self.assertEqual([e["kind"] for e in shown["timeline"]][-2:],
                         ["ticket.resolved", "purge.resolved"])

    def test_clear_refusals(self):
        for args, message in (
                (["ticket", "comment", self.ref], "no comment given"),
                (["ticket", "comment", self.ref, "x", "--file", "-"], "not both"),
                (["ticket", "comment", self.ref, " "], "the comment is empty"),
                (["ticket", "comment", self.ref, "x" * 16385], "the server takes at most 16384"),
                (["ticket", "comment", self.ref, "--file", "/nonexistent/n"], "cannot be read"),
                (["ticket", "comment", "NOPE-404", "hello"], "no ticket \"NOPE-404\"")):
            result = self.run_valise(*args)
            self.assertNotEqual(result.returncode, 0, args)
            self.assertIn(message, result.stderr.decode(), args)
        self.assertEqual(self.server.api("GET", self.path("/comments"), expect=200), [])


if __name__ == "__main__":
    unittest.main()
