"""Several valise-server nodes of one installation (docs/cluster.md), on the
PostgreSQL test cluster: wakes across nodes (an agent's job long-poll, the
console's event long-poll), the leader (exactly one; another takes over
when it is killed, purges and reconciles once), and the outbox delivered by
the leader alone; lost connections (the leader's, the listening one). Real servers (tests/interop/server_process.py, a second
node by another_node), real mutual TLS for the agent.

ctest passes VALISE_SERVER_BIN, VALISE_TEST_BACKEND=postgresql and
VALISE_TEST_POSTGRESQL_URL_FILE; a missing one fails the tests."""
import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from https_stand_in import make_certificates  # noqa: E402
from server_process import ServerProcess, free_port, psql  # noqa: E402
from test_outbox import OutboxServer, Receiver  # noqa: E402
from test_server_agents import Agent, age_like  # noqa: E402

TAKEOVER = 10  # seconds a node may take to lead once the leader is gone


# The leader's advisory lock ("valise", then 2), and how pg_locks shows it:
# its two 32-bit halves, in this database.
LEADER_KEY = 0x76616c6973650002
LEADER_LOCK = (f"locktype = 'advisory' AND classid = {LEADER_KEY >> 32} "
               f"AND objid = {LEADER_KEY & 0xffffffff} AND database = "
               "(SELECT oid FROM pg_database WHERE datname = current_database())")


def gauge(node, name):
    """A gauge without labels from the node's /metrics."""
    status, _, body = node.request("GET", "/metrics", token=node.technician_token)
    assert status == 200, body
    found = re.search(rb"^" + name.encode() + rb" (\d+)$", body, re.M)
    assert found, f"no {name} in /metrics"
    return int(found.group(1))


def leader_gauge(node):
    return gauge(node, "valise_leader")


JOB_POLLS, EVENT_POLLS = "valise_job_polls_waiting", "valise_event_polls_waiting"


class TwoNodes(unittest.TestCase):
    """Node A (started first, so the leader) and node B for the whole class."""
    config_edits = {}

    @classmethod
    def make_first(cls, workdir):
        return ServerProcess(workdir, config_edits=cls.config_edits)

    @classmethod
    def setUpClass(cls):
        if os.environ.get("VALISE_TEST_BACKEND") != "postgresql":
            raise RuntimeError("these tests need VALISE_TEST_BACKEND=postgresql (ctest sets it)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-cluster-")
        cls.dir = Path(cls.tmp.name)
        cls.a = cls.make_first(cls.dir / "a")
        cls.a.start()
        cls.b = cls.a.another_node(cls.dir / "b")
        cls.b.start()

    @classmethod
    def tearDownClass(cls):
        for node in (cls.b, cls.a):
            node.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.ref = f"{self._testMethodName[5:30]}-{time.monotonic_ns() % 100000}"
        self.a.create_ticket(self.ref)

    def in_background(self, node, waiting, call):
        """Runs `call` (a long-poll on `node`) in a thread, and returns once
        the node's `waiting` gauge shows it parked: it looked and found
        nothing, so only a wake answers it now. The thread and a dict that
        gets the call's answer ("answer") and its time ("at")."""
        before = gauge(node, waiting)
        answer = {}

        def run():
            answer["answer"] = call()
            answer["at"] = time.monotonic()
        waiter = threading.Thread(target=run, daemon=True)
        waiter.start()
        since = time.monotonic()
        while gauge(node, waiting) <= before:
            self.assertNotIn("answer", answer)
            self.assertLess(time.monotonic() - since, 10, f"{waiting} did not go up")
            time.sleep(0.05)
        return waiter, answer

    def poll_in_background(self, agent):
        """The agent's job long-poll on its node, parked."""
        return self.in_background(agent.server, JOB_POLLS, lambda: agent.jobs(wait=30))

    def logged(self, node, text, timeout=10):
        """Until the node's log says `text`: a node changes its leader gauge
        just before it logs the change."""
        deadline = time.monotonic() + timeout
        while text not in node.log_path.read_text():
            self.assertLess(time.monotonic(), deadline, f"the log never said {text!r}")
            time.sleep(0.05)

    def answered(self, waiter, answer, since, within=1.0):
        """The long-poll's answer, which came within `within` s of `since`."""
        waiter.join(30)
        self.assertFalse(waiter.is_alive())
        self.assertLess(answer["at"] - since, within)
        return answer["answer"]


class Wakes(TwoNodes):
    def test_a_request_made_on_one_node_wakes_the_agent_waiting_on_another(self):
        agent = Agent(self.b, self.dir / "agents").enrolled(self.a.create_enroll_token())
        waiter, answer = self.poll_in_background(agent)  # parked on B
        made = self.a.api("POST", f"/api/v1/tickets/{self.ref}/requests",
                          {"agent": agent.id, "profile": "base"}, expect=201)
        status, _, jobs = self.answered(waiter, answer, time.monotonic())
        self.assertEqual(status, 200)
        self.assertEqual([j["id"] for j in jobs["jobs"]], [made["id"]])
        self.assertEqual(gauge(self.b, JOB_POLLS), 0)

    def test_a_revocation_on_one_node_ends_the_agents_wait_on_another(self):
        agent = Agent(self.b, self.dir / "agents", "revoked").enrolled(
            self.a.create_enroll_token())
        waiter, answer = self.poll_in_background(agent)
        self.a.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        self.assertEqual(self.answered(waiter, answer, time.monotonic())[0], 403)

    def test_an_audit_record_on_one_node_wakes_the_event_long_poll_on_another(self):
        status, _, body = self.b.request("GET", "/api/v1/events", token=self.b.technician_token)
        self.assertEqual(status, 200)
        start = json.loads(body)["last"]
        waiter, answer = self.in_background(
            self.b, EVENT_POLLS,
            lambda: self.b.request("GET", f"/api/v1/events?after={start}&wait=30",
                                   token=self.b.technician_token, timeout=60))
        ref = self.ref + "-new"
        self.a.create_ticket(ref)
        status, _, body = self.answered(waiter, answer, time.monotonic())
        self.assertEqual(status, 200)
        events = json.loads(body)["events"]
        self.assertIn(("ticket.created", ref), [(e["action"], e["ticket"]) for e in events])
        self.assertEqual(gauge(self.b, EVENT_POLLS), 0)


def end_sessions(node, like):
    """Ends the database sessions whose last statement is LIKE `like`, as a
    lost connection would (pg_terminate_backend, which waits for each to be
    gone); how many."""
    return int(psql(node.database_url,
                    "SELECT count(pg_terminate_backend(pid, 10000)) FROM pg_stat_activity "
                    f"WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    f"AND query LIKE '{like}'").strip())


class LostConnections(TwoNodes):
    def test_a_lost_listening_connection_is_reopened_and_wakes_everyone(self):
        agent = Agent(self.b, self.dir / "agents").enrolled(self.a.create_enroll_token())
        waiter, answer = self.poll_in_background(agent)
        self.assertEqual(end_sessions(self.a, "LISTEN%"), 2)  # A's and B's
        time.sleep(0.5)
        # Made while B does not listen: its notification is lost, and B's
        # reopening wakes every long-poll instead.
        made = self.a.api("POST", f"/api/v1/tickets/{self.ref}/requests",
                          {"agent": agent.id, "profile": "base"}, expect=201)
        jobs = self.answered(waiter, answer, time.monotonic(), within=8)[2]["jobs"]
        self.assertEqual([j["id"] for j in jobs], [made["id"]])
        self.assertIn("wakes from other nodes: listening again", self.b.log_path.read_text())
        # And B hears A again, at once.
        self.assertEqual(agent.status(made["id"], "failed", error="test")[0], 200)
        waiter, answer = self.poll_in_background(agent)
        made = self.a.api("POST", f"/api/v1/tickets/{self.ref}/requests",
                          {"agent": agent.id, "profile": "base"}, expect=201)
        jobs = self.answered(waiter, answer, time.monotonic())[2]["jobs"]
        self.assertEqual([j["id"] for j in jobs], [made["id"]])

    def test_a_leader_whose_session_ends_steps_down(self):
        self.assertEqual((leader_gauge(self.a), leader_gauge(self.b)), (1, 0))
        # The leader's session ended by the server, and the lock taken by a
        # session of this test, which waits for it: A, connected again,
        # finds it taken, and so does B.
        holder = subprocess.Popen(["psql", "-X", "-q", "-A", "-t", "-d", self.a.database_url],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            # A node may take the lock first (it tries every 2 s): then this
            # wait ends in an error, and the test fails instead of hanging.
            holder.stdin.write(
                "SET lock_timeout = '20s';\n"
                "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE "
                f"{LEADER_LOCK} AND granted;\n"
                f"SELECT pg_advisory_lock({LEADER_KEY});\n\\echo held\n")
            holder.stdin.flush()
            self.assertEqual(holder.stdout.readline().strip(), "1")
            while holder.stdout.readline().strip() != "held":
                pass
            since = time.monotonic()
            while (leader_gauge(self.a), leader_gauge(self.b)) != (0, 0):
                self.assertLess(time.monotonic() - since, TAKEOVER, "A still leads")
                time.sleep(0.2)
            self.logged(self.a, "leader: no longer leader")
        finally:
            holder.stdin.close()
            holder.wait(30)
        # The lock free again: one node takes it, and only one.
        since = time.monotonic()
        while sorted((leader_gauge(self.a), leader_gauge(self.b))) != [0, 1]:
            self.assertLess(time.monotonic() - since, TAKEOVER, "nobody leads")
            time.sleep(0.2)
        time.sleep(4)  # two more tries each
        self.assertEqual(sorted((leader_gauge(self.a), leader_gauge(self.b))), [0, 1])
        self.assertEqual(psql(self.a.database_url,
                              f"SELECT count(DISTINCT pid) FROM pg_locks WHERE {LEADER_LOCK} "
                              "AND granted").strip(), "1")


class Leader(TwoNodes):
    # Uploads expire at once; the timer's purge is far off, so only a node's
    # election purges within the test.
    config_edits = {"uploads.expires_after": '"2s"', "retention.purge_interval": '"1h"'}

    def partial_upload(self):
        link = self.a.create_link(self.ref)
        name = base64.b64encode(b"logs.tar.zst.age").decode()
        status, headers, body = self.a.request(
            "POST", "/api/v1/uploads", token=link["token"],
            headers={"Tus-Resumable": "1.0.0", "Upload-Length": "1000",
                     "Upload-Metadata": f"filename {name}"})
        self.assertEqual(status, 201, body)
        status, _, body = self.a.request(
            "PATCH", headers["location"], age_like(10), token=link["token"],
            headers={"Tus-Resumable": "1.0.0", "Upload-Offset": "0",
                     "Content-Type": "application/offset+octet-stream"})
        self.assertEqual(status, 204, body)
        return headers["location"].rsplit("/", 1)[1]

    def test_each_node_s_status_says_whether_it_leads(self):
        # Before A is killed (the tests run in name order).
        self.assertEqual((leader_gauge(self.a), leader_gauge(self.b)), (1, 0))
        a = self.a.command("status", *self.a.location())
        b = self.b.command("status", *self.b.location())
        self.assertIn("\nleader:         this node\n", a)
        self.assertRegex(
            b, rf"\nleader: +another node \(valise-server \S+ 127\.0\.0\.1:{self.a.port}\)\n")

    def test_one_leader_and_another_takes_over_when_it_is_killed(self):
        self.assertEqual((leader_gauge(self.a), leader_gauge(self.b)), (1, 0))
        upload = self.partial_upload()
        uploads = self.a.data / "uploads"
        self.assertTrue((uploads / upload).is_file())
        # Files no record names: an old one is an orphan, a young one may be
        # another node's between its record's commit and the file.
        old, young = uploads / "orphan-old", uploads / "orphan-young"
        old.write_bytes(b"x")
        young.write_bytes(b"x")
        two_hours_ago = time.time() - 7200
        os.utime(old, (two_hours_ago, two_hours_ago))
        time.sleep(3)  # the upload expires; nobody purges it yet
        self.assertTrue((uploads / upload).is_file())
        self.a.process.kill()  # kill -9: no hand-over, the connection just ends
        self.a.process.wait()
        killed_at = time.monotonic()
        while leader_gauge(self.b) != 1:
            self.assertLess(time.monotonic() - killed_at, TAKEOVER, "B did not take over")
            time.sleep(0.2)
        self.logged(self.b, "leader: this node now runs retention")
        # Its election purged the expired upload, once, and reconciled.
        deadline = time.monotonic() + 10
        while (uploads / upload).exists():
            self.assertLess(time.monotonic(), deadline, "the expired upload was not purged")
            time.sleep(0.2)
        trail = self.b.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200)
        self.assertEqual(len([r for r in trail if r["action"] == "purge.expired_upload"]), 1)
        self.assertFalse(old.exists())
        self.assertTrue(young.exists())


class SlowReceiver(Receiver):
    """A webhook receiver that takes 2 s to answer: long enough for a second
    node's worker (which looks every second) to find the entry still due."""

    def handler(self):
        base = super().handler()

        class Slow(base):
            def do_POST(self):
                time.sleep(2)
                super().do_POST()
        return Slow


class OutboxOnce(TwoNodes):
    @classmethod
    def make_first(cls, workdir):
        make_certificates(cls.dir)
        cls.receiver = SlowReceiver(cls.dir, free_port())
        cls.receiver.start()
        return OutboxServer(workdir, cls.receiver.port, cls.dir / "ca.pem")

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.receiver.stop()

    def test_an_entry_made_on_either_node_is_delivered_once(self):
        for node in (self.b, self.a):  # B first: the leader's worker is woken from B
            ref = f"{self.ref}-{node.port}"
            node.create_ticket(ref)
            node.upload_through_link(ref, age_like(2000))
            self.receiver.wait_for(ref, "bundle.arrived")
        time.sleep(5)  # time for any second delivery
        with self.receiver.lock:
            arrived = [p["data"]["ticket"] for _, p in self.receiver.deliveries
                       if p["type"] == "bundle.arrived"]
            sent = [h["webhook-id"] for h, _ in self.receiver.deliveries]
        self.assertEqual(sorted(arrived), sorted(f"{self.ref}-{n.port}" for n in (self.a, self.b)))
        self.assertEqual(len(sent), len(set(sent)), "an entry was delivered twice")
        self.assertEqual(self.receiver.requests, len(sent))


if __name__ == "__main__":
    unittest.main()
