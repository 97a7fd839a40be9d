"""Ticket deadlines in business time against the real valise-server (issue
16): the due dates of tickets created at fixed times under the default
calendar (Europe/Paris, Mon-Fri 09:00-12:30 and 13:30-17:00, worked out by
hand as in docs/calendar.md), pending and resume, the first response, overdue
tickets through the API, `valise ticket` and /metrics. The server's clock is
the file VALISE_TEST_CLOCK names (docs/development.md), which each test
rewrites. Python 3 standard library only; VALISE_SERVER_BIN and VALISE_BIN
name the binaries (ctest sets them)."""
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
from server_process import ServerProcess, SharedServerTest  # noqa: E402


class DeadlinesTest(SharedServerTest):
    """One server per class, its clock a file in the class's directory."""
    workdir_prefix = "valise-deadlines-"

    @classmethod
    def setUpClass(cls):
        cls.clock_dir = tempfile.TemporaryDirectory(prefix="valise-clock-")
        cls.clock = Path(cls.clock_dir.name) / "now"
        cls.set_clock("2026-03-02T08:00:00Z")
        cls.saved_clock = os.environ.get("VALISE_TEST_CLOCK")
        os.environ["VALISE_TEST_CLOCK"] = str(cls.clock)
        try:
            super().setUpClass()
        finally:
            if cls.saved_clock is None:
                del os.environ["VALISE_TEST_CLOCK"]
            else:
                os.environ["VALISE_TEST_CLOCK"] = cls.saved_clock

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.clock_dir.cleanup()

    @classmethod
    def set_clock(cls, instant):
        """Moves the server's time (a new file renamed over the old one)."""
        fresh = cls.clock.with_suffix(".new")
        fresh.write_text(instant + "\n")
        os.replace(fresh, cls.clock)

    def ref(self, tail=""):
        return f"{self._testMethodName[5:35]}{tail}-{time.monotonic_ns() % 100000}"

    def create(self, at, severity, tail=""):
        self.set_clock(at)
        ref = self.ref(tail)
        made = self.server.api("POST", "/api/v1/tickets",
                               {"ref": ref, "title": "deadline", "severity": severity}, expect=201)
        self.assertEqual(made["created_at"], at)
        return made

    def get(self, ref):
        return self.server.api("GET", f"/api/v1/tickets/{ref}", expect=200)

    def post(self, ref, action, expect=200):
        status, _, data = self.server.request("POST", f"/api/v1/tickets/{ref}/{action}",
                                              token=self.server.technician_token)
        self.assertEqual(status, expect, data)
        return json.loads(data)


class Deadlines(DeadlinesTest):
    def test_the_log_says_the_clock_is_fake(self):
        self.assertIn("the clock is fake", self.server.log_path.read_text())

    def test_a_clock_file_others_may_write_is_refused(self):
        # Whoever may write the file sets the server's time: the server's user alone.
        loose = Path(self.clock_dir.name) / "loose"
        loose.write_text("2026-03-02T09:00:00Z\n")
        loose.chmod(0o666)
        server = ServerProcess(Path(self.clock_dir.name) / "loose-server")
        os.environ["VALISE_TEST_CLOCK"] = str(loose)
        try:
            with self.assertRaises(RuntimeError) as refused:
                server.start()
        finally:
            del os.environ["VALISE_TEST_CLOCK"]
            server.stop()
        self.assertIn("must belong to the server's user (or root) and be writable by it alone",
                      str(refused.exception))

    def test_blocking_on_monday_morning(self):
        # Monday 2 March 2026, 10:00 in Paris (CET, 09:00Z). First response 2 h:
        # 12:00. Resolution 24 h: Monday 6 h, Tuesday 13, Wednesday 20,
        # Thursday 09:00-12:30 23.5, 13:30-14:00 24: Thursday 14:00 (13:00Z).
        t = self.create("2026-03-02T09:00:00Z", "blocking")
        self.assertEqual(t["response_due_at"], "2026-03-02T11:00:00Z")
        self.assertEqual(t["due_at"], "2026-03-05T13:00:00Z")
        self.assertIsNone(t["first_response_at"])
        self.assertEqual((t["pending"], t["pending_since"]), (False, None))
        self.assertEqual((t["overdue"], t["response_overdue"]), (False, False))
        self.assertEqual(self.get(t["ref"])["due_at"], "2026-03-05T13:00:00Z")

    def test_non_blocking_on_friday_evening(self):
        # Friday 6 March, 18:30 in Paris: the clock starts Monday 9 March 09:00.
        # First response 8 h: Monday's 7, then Tuesday 09:00-10:00. Resolution
        # 4 business days (28 h): Monday to Thursday, due at Thursday's close.
        t = self.create("2026-03-06T17:30:00Z", "non-blocking")
        self.assertEqual(t["response_due_at"], "2026-03-10T09:00:00Z")
        self.assertEqual(t["due_at"], "2026-03-12T16:00:00Z")

    def test_pending_then_resume_pushes_the_due_dates(self):
        # Semi-blocking, Monday 2 March 09:00 in Paris: first response 4 h
        # (14:00); resolution 48 h: Monday to Friday 35 h, Monday 9 March 42,
        # Tuesday 10 March 09:00-12:30 45.5 and 13:30-16:00 48: 16:00 (15:00Z).
        t = self.create("2026-03-02T08:00:00Z", "semi-blocking")
        ref = t["ref"]
        self.assertEqual(t["response_due_at"], "2026-03-02T13:00:00Z")
        self.assertEqual(t["due_at"], "2026-03-10T15:00:00Z")
        self.post(ref, "resume", expect=409)  # not pending
        self.set_clock("2026-03-02T10:00:00Z")  # 11:00 in Paris
        paused = self.post(ref, "pending")
        self.assertEqual((paused["pending"], paused["pending_since"]),
                         (True, "2026-03-02T10:00:00Z"))
        self.assertEqual((paused["due_at"], paused["response_due_at"]), (None, None))
        again = self.post(ref, "pending", expect=409)
        self.assertEqual(again["error"], "ticket_pending")
        self.assertIn("is already pending", again["message"])
        # Resumed at 15:00 in Paris: 11:00-12:30 and 13:30-15:00 paused, 3 h.
        self.set_clock("2026-03-02T14:00:00Z")
        resumed = self.post(ref, "resume")
        self.assertEqual((resumed["pending"], resumed["pending_since"]), (False, None))
        # 3 h paused: the first response moves from 14:00 to 17:00, the
        # resolution from Tuesday 10 March 16:00 to 17:00 and on to
        # Wednesday 11 March 11:00 (10:00Z).
        self.assertEqual(resumed["response_due_at"], "2026-03-02T16:00:00Z")
        self.assertEqual(resumed["due_at"], "2026-03-11T10:00:00Z")
        self.assertEqual(self.post(ref, "resume", expect=409)["error"], "ticket_not_pending")
        texts = [e["text"] for e in self.get(ref)["timeline"]]
        self.assertIn("token interop set the ticket pending: its clock stops until it is "
                      "resumed.", texts)
        self.assertIn("token interop resumed the ticket: its clock runs again.", texts)

    def test_pending_refuses_a_resolved_ticket(self):
        t = self.create("2026-03-02T08:00:00Z", "blocking")
        self.server.api("POST", f"/api/v1/tickets/{t['ref']}/resolve", {}, expect=200)
        refused = self.post(t["ref"], "pending", expect=409)
        self.assertEqual(refused["error"], "ticket_resolved")
        self.assertEqual(self.post("NOPE-404", "pending", expect=404)["error"], "ticket_not_found")

    def test_resolving_a_pending_ticket_ends_its_pause(self):
        t = self.create("2026-03-02T08:00:00Z", "blocking")
        self.set_clock("2026-03-02T09:00:00Z")
        self.post(t["ref"], "pending")
        self.set_clock("2026-03-02T10:00:00Z")
        done = self.server.api("POST", f"/api/v1/tickets/{t['ref']}/resolve", {},
                               expect=200)["ticket"]
        self.assertEqual((done["pending"], done["overdue"]), (False, False))
        # 24 h from Monday 09:00 in Paris is Thursday 12:00; 1 h paused
        # (10:00-11:00) makes it 14:00 (13:00Z), across lunch.
        self.assertEqual(done["due_at"], "2026-03-05T13:00:00Z")

    def test_first_response_is_a_comment_not_a_read(self):
        t = self.create("2026-03-02T08:00:00Z", "blocking")
        ref = t["ref"]
        self.set_clock("2026-03-02T08:30:00Z")
        self.get(ref)
        self.server.api("GET", f"/api/v1/tickets/{ref}/comments", expect=200)
        self.assertIsNone(self.get(ref)["first_response_at"])
        self.set_clock("2026-03-02T09:15:00Z")
        self.server.api("POST", f"/api/v1/tickets/{ref}/comments", {"text": "On it."}, expect=201)
        self.set_clock("2026-03-02T09:45:00Z")
        self.server.api("POST", f"/api/v1/tickets/{ref}/comments", {"text": "Still."}, expect=201)
        shown = self.get(ref)
        self.assertEqual(shown["first_response_at"], "2026-03-02T09:15:00Z")
        # Answered: past response_due_at is no longer a late response.
        self.set_clock("2026-03-03T09:00:00Z")
        self.assertFalse(self.get(ref)["response_overdue"])

    def test_first_response_is_a_link(self):
        t = self.create("2026-03-02T08:00:00Z", "non-blocking")
        self.set_clock("2026-03-02T08:20:00Z")
        self.server.create_link(t["ref"])
        self.assertEqual(self.get(t["ref"])["first_response_at"], "2026-03-02T08:20:00Z")


class Overdue(DeadlinesTest):
    """Its own server: it counts every ticket."""

    def overdue_refs(self):
        return [t["ref"] for t in
                self.server.api("GET", "/api/v1/tickets?overdue=true", expect=200)]

    def gauges(self):
        status, _, body = self.server.request("GET", "/metrics",
                                              token=self.server.technician_token)
        self.assertEqual(status, 200, body)
        return dict(re.findall(r'^(valise_tickets_\w+\{severity="[\w-]+"\}) (\d+)$',
                               body.decode(), re.M))

    def test_overdue_after_moving_the_clock(self):
        blocking = self.create("2026-03-02T09:00:00Z", "blocking", "b")["ref"]  # due Thu 13:00Z
        later = self.create("2026-03-02T09:00:00Z", "non-blocking", "n")["ref"]  # due Fri 09:00Z
        parked = self.create("2026-03-02T09:00:00Z", "blocking", "p")["ref"]
        self.post(parked, "pending")
        self.assertEqual(self.overdue_refs(), [])
        gauges = self.gauges()
        self.assertEqual(gauges['valise_tickets_open{severity="blocking"}'], "2")
        self.assertEqual(gauges['valise_tickets_open{severity="non-blocking"}'], "1")
        self.assertEqual(gauges['valise_tickets_overdue{severity="blocking"}'], "0")

        self.set_clock("2026-03-02T11:00:01Z")  # past the first-response target
        shown = self.get(blocking)
        self.assertEqual((shown["overdue"], shown["response_overdue"]), (False, True))

        self.set_clock("2026-03-05T13:00:00Z")  # due, not yet past it
        self.assertEqual(self.overdue_refs(), [])
        self.set_clock("2026-03-05T13:00:01Z")
        self.assertEqual(self.overdue_refs(), [blocking])
        self.assertTrue(self.get(blocking)["overdue"])
        self.assertFalse(self.get(parked)["overdue"])
        gauges = self.gauges()
        self.assertEqual(gauges['valise_tickets_overdue{severity="blocking"}'], "1")
        self.assertEqual(gauges['valise_tickets_overdue{severity="non-blocking"}'], "0")

        # Sorted by due date, soonest first; the pending one (no date) last.
        by_due = self.server.api("GET", "/api/v1/tickets?sort=due", expect=200)
        self.assertEqual([t["ref"] for t in by_due], [blocking, later, parked])
        status, _, data = self.server.request("GET", "/api/v1/tickets?overdue=yes",
                                              token=self.server.technician_token)
        self.assertEqual(status, 400, data)
        self.assertIn(b"overdue must be true or false", data)

        self.set_clock("2026-03-09T09:00:00Z")
        self.assertEqual(sorted(self.overdue_refs()), sorted([blocking, later]))
        self.server.api("POST", f"/api/v1/tickets/{blocking}/resolve", {}, expect=200)
        self.assertEqual(self.overdue_refs(), [later])
        # Set pending once late, it stays late: the pause came after its due date.
        self.post(later, "pending")
        self.assertEqual(self.overdue_refs(), [later])
        self.assertEqual((self.get(later)["overdue"], self.get(later)["due_at"]),
                         (True, "2026-03-06T09:00:00Z"))
        self.assertEqual(self.gauges()['valise_tickets_overdue{severity="non-blocking"}'], "1")
        self.post(later, "resume")
        gauges = self.gauges()
        self.assertEqual(gauges['valise_tickets_open{severity="blocking"}'], "1")
        self.assertEqual(gauges['valise_tickets_overdue{severity="blocking"}'], "0")
        self.assertEqual(gauges['valise_tickets_overdue{severity="non-blocking"}'], "1")
        self.overdue_cli(later)

    def overdue_cli(self, ref):
        """`valise ticket list --overdue` and its due column, then pending and
        resume through `valise ticket`."""
        valise = os.environ.get("VALISE_BIN")
        if not valise or not Path(valise).is_file():
            raise RuntimeError("VALISE_BIN must name the valise binary")

        def run(*args):
            env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
            env.update(HOME=self.tmp.name, XDG_CONFIG_HOME=os.path.join(self.tmp.name, "config"),
                       TZ="UTC")
            result = subprocess.run([valise, *args, "--server", self.server.url, "--ca",
                                     str(self.server.ca), "--token", self.server.technician_token],
                                    capture_output=True, timeout=60, env=env)
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            return result.stdout.decode()

        out = run("ticket", "list", "--overdue")
        lines = out.splitlines()
        self.assertIn("DUE", lines[0])
        self.assertEqual(len(lines), 2, out)
        self.assertIn(ref, lines[1])
        self.assertIn("2026-03-06 09:00Z overdue", lines[1])
        shown = run("ticket", "show", ref)
        self.assertIn("due       2026-03-06T09:00:00Z (overdue)\n", shown)
        self.assertIn("response  due 2026-03-03T10:00:00Z, not answered yet (overdue)\n", shown)
        self.assertRegex(run("ticket", "pending", ref), rf"^ticket {ref} is pending")
        # Late before the pause: still late while pending.
        listed = run("ticket", "list", "--overdue").splitlines()[1:]
        self.assertEqual([line.split()[0] for line in listed], [ref])
        self.assertIn("pending   since 2026-03-09T09:00:00Z\n", run("ticket", "show", ref))
        self.assertRegex(run("ticket", "resume", ref), rf"^ticket {ref} resumed")


if __name__ == "__main__":
    unittest.main()
