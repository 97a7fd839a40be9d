"""A server on PostgreSQL outlives its database connection (issue 17's
review): after pg_terminate_backend, a restart of the cluster, and an outage
during which calls fail, ticket calls work again with no restart of the
server, and the log says so once, with no password.

The test runs its own throwaway cluster (tests/postgresql), not the shared
fixture, since it restarts it. ctest passes VALISE_SERVER_BIN; a missing
binary or cluster fails the test, never skips."""
import json
import os
import signal
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "postgresql"))
import throwaway_cluster  # noqa: E402
from server_process import ServerProcess, psql  # noqa: E402


class ServerOnItsOwnCluster(unittest.TestCase):
    config_edits = {}

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-reconnect-")
        self.addCleanup(self.tmp.cleanup)
        self.state = os.path.join(self.tmp.name, "cluster.json")
        self.cluster_url = throwaway_cluster.start(self.state)
        self.addCleanup(throwaway_cluster.stop, self.state)
        self.password = self.cluster_url.split(":")[2].split("@")[0]
        os.environ.update(VALISE_TEST_BACKEND="postgresql",
                          VALISE_TEST_POSTGRESQL_URL=self.cluster_url)
        self.server = ServerProcess(Path(self.tmp.name) / "server", config_edits=self.config_edits)
        self.server.start()
        self.addCleanup(self.server.stop)

    def ticket_works(self, ref):
        """Creates REF and reads it back: both must answer at once."""
        self.server.create_ticket(ref)
        self.assertEqual(self.server.api("GET", f"/api/v1/tickets/{ref}", expect=200)["ref"], ref)

    def timed(self, *args, **kw):
        start = time.monotonic()
        status, _, body = self.server.request(*args, timeout=30, **kw)
        return status, body, time.monotonic() - start

    def silence_the_database(self):
        """Stops the postmaster and ends the node's sessions; SIGCONT at cleanup."""
        database = self.server.database_url.rsplit("/", 1)[1]
        sessions = psql(self.cluster_url, "SELECT pid FROM pg_stat_activity "
                        f"WHERE datname = '{database}'").split()
        self.assertGreaterEqual(len(sessions), 1)
        with open(self.state) as f:
            data = os.path.join(json.load(f)["dir"], "data")
        with open(os.path.join(data, "postmaster.pid")) as f:
            postmaster = int(f.readline())
        os.kill(postmaster, signal.SIGSTOP)
        self.addCleanup(os.kill, postmaster, signal.SIGCONT)  # before the cluster stops
        for pid in sessions:  # what pg_terminate_backend does, with no session to ask
            os.kill(int(pid), signal.SIGTERM)
        # Ended: zombies, since the stopped postmaster cannot reap them.
        deadline = time.monotonic() + 10
        while not all(ended(pid) for pid in sessions):
            self.assertLess(time.monotonic(), deadline, "the sessions did not end")
            time.sleep(0.05)
        return postmaster


class Reconnect(ServerOnItsOwnCluster):
    def test_the_server_reconnects_after_the_database_went_away(self):
        server = self.server
        self.ticket_works("RC-1")
        database = server.database_url.rsplit("/", 1)[1]

        # The server's sessions ended by the database (an administrator, a
        # failover): the next call opens a new one.
        ended = psql(self.cluster_url, "SELECT count(pg_terminate_backend(pid)) FROM "
                     f"pg_stat_activity WHERE datname = '{database}'")
        self.assertGreaterEqual(int(ended), 1)
        self.ticket_works("RC-2")

        # The cluster restarted.
        throwaway_cluster.restart(self.state)
        self.ticket_works("RC-3")

        # Down for a while: calls fail with an error, and succeed once it is back.
        throwaway_cluster.halt(self.state)
        for attempt in range(2):
            if attempt:
                time.sleep(1.1)  # past the first wait between attempts (1 s)
            status, _, body = server.request("GET", "/api/v1/tickets/RC-1",
                                             token=server.technician_token)
            # A 503 a client retries, not a 500 that says the server is broken.
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["error"], "database_unavailable", body)
        # It says when to try again.
        status, headers, _ = server.request("GET", "/api/v1/tickets/RC-1",
                                            token=server.technician_token)
        self.assertEqual((status, headers.get("retry-after")), (503, "5"), headers)
        throwaway_cluster.resume(self.state)
        time.sleep(2.5)  # past the second wait (2 s): the waits double up to 30 s
        self.ticket_works("RC-4")
        self.assertEqual(
            {t["ref"] for t in server.api("GET", "/api/v1/tickets", expect=200)},
            {"RC-1", "RC-2", "RC-3", "RC-4"})

        log = server.log_tail(400)
        self.assertIn("database: reconnected to postgresql://valise@", log)
        self.assertIn("was lost", log)
        self.assertNotIn(self.password, log)
        self.assertIn("database: unavailable", log)
        # Once per outage and connection, not once per call: the store's (3),
        # and the leader's and the one listening for other nodes' wakes
        # (docs/cluster.md), which reconnect when their next call finds it lost.
        self.assertGreaterEqual(log.count("database: reconnected"), 3, log)
        self.assertLessEqual(log.count("database: reconnected"), 3 * 3, log)


def ended(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


class DatabaseSilent(ServerOnItsOwnCluster):
    """The database's host accepts connections and never answers (the
    postmaster stopped with SIGSTOP: the kernel still completes the TCP
    handshake) after the node's sessions ended: each attempt to connect again
    gives up after 2 s instead of libpq's connect_timeout (10 s) with the
    store's mutex held, and /healthz answers meanwhile."""

    def test_calls_answer_within_three_seconds_and_it_comes_back(self):
        server = self.server
        self.ticket_works("SL-1")
        postmaster = self.silence_the_database()
        try:
            outcome = {}
            call = threading.Thread(target=lambda: outcome.update(ticket=self.timed(
                "GET", "/api/v1/tickets/SL-1", token=server.technician_token)))
            call.start()
            time.sleep(0.2)
            status, _, took = self.timed("GET", "/healthz")
            self.assertEqual(status, 200)
            self.assertLess(took, 1.0)
            call.join()
            status, body, took = outcome["ticket"]
            self.assertEqual(status, 503, body)
            self.assertEqual(json.loads(body)["error"], "database_unavailable", body)
            self.assertLess(took, 3.0)
            # Between attempts calls fail at once.
            status, body, took = self.timed("GET", "/api/v1/tickets/SL-1",
                                            token=server.technician_token)
            self.assertEqual(status, 503, body)
            self.assertLess(took, 3.0)
        finally:
            os.kill(postmaster, signal.SIGCONT)
        deadline = time.monotonic() + 20
        while self.timed("GET", "/api/v1/tickets/SL-1", token=server.technician_token)[0] != 200:
            self.assertLess(time.monotonic(), deadline, "the node never reconnected")
            time.sleep(0.5)
        self.ticket_works("SL-2")
        self.assertIn("database: reconnected", server.log_tail(400))


class WakesSilent(ServerOnItsOwnCluster):
    """The same silent database, seen by the connection that listens for
    other nodes' wakes (docs/cluster.md): it connects again without blocking
    the I/O thread (one here, so that a blocked one stalls every
    connection), each attempt given up after 2 s, and once the database
    answers again it listens again. No call here touches the database."""

    config_edits = {"server.threads": "1"}

    def test_the_node_answers_while_the_relay_tries_to_reconnect(self):
        server = self.server
        self.ticket_works("WS-1")
        postmaster = self.silence_the_database()
        try:
            # Past two of its attempts (at once, then 1 s after the first
            # gave up), and well into a third.
            slowest = 0.0
            until = time.monotonic() + 8
            while time.monotonic() < until:
                for path in ("/healthz", "/api/v1/ca"):
                    status, body, took = self.timed("GET", path)
                    self.assertEqual(status, 200, body)
                    slowest = max(slowest, took)
                time.sleep(0.1)
            self.assertLess(slowest, 1.0)
            log = server.log_tail(400)
            self.assertIn("wakes from other nodes: connection lost", log)
            self.assertIn("wakes from other nodes: cannot listen", log)
        finally:
            os.kill(postmaster, signal.SIGCONT)
        deadline = time.monotonic() + 40
        while "wakes from other nodes: listening again" not in server.log_tail(400):
            self.assertLess(time.monotonic(), deadline, "the relay never listened again")
            time.sleep(0.5)
        self.ticket_works("WS-2")
        self.assertNotIn(self.password, server.log_tail(400))


if __name__ == "__main__":
    unittest.main()
