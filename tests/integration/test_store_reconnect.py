"""A server on PostgreSQL outlives its database connection (issue 17's
review): after pg_terminate_backend, a restart of the cluster, and an outage
during which calls fail, ticket calls work again with no restart of the
server, and the log says so once, with no password.

The test runs its own throwaway cluster (tests/postgresql), not the shared
fixture, since it restarts it. ctest passes VALISE_SERVER_BIN; a missing
binary or cluster fails the test, never skips."""
import json
import os
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE.parent / "postgresql"))
import throwaway_cluster  # noqa: E402
from server_process import ServerProcess, psql  # noqa: E402


class Reconnect(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-reconnect-")
        self.addCleanup(self.tmp.cleanup)
        self.state = os.path.join(self.tmp.name, "cluster.json")
        self.cluster_url = throwaway_cluster.start(self.state)
        self.addCleanup(throwaway_cluster.stop, self.state)
        self.password = self.cluster_url.split(":")[2].split("@")[0]
        os.environ.update(VALISE_TEST_BACKEND="postgresql",
                          VALISE_TEST_POSTGRESQL_URL=self.cluster_url)
        self.server = ServerProcess(Path(self.tmp.name) / "server")
        self.server.start()
        self.addCleanup(self.server.stop)

    def ticket_works(self, ref):
        """Creates REF and reads it back: both must answer at once."""
        self.server.create_ticket(ref)
        self.assertEqual(self.server.api("GET", f"/api/v1/tickets/{ref}", expect=200)["ref"], ref)

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
                time.sleep(1.1)  # past the one attempt a second
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
        time.sleep(1.1)
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


if __name__ == "__main__":
    unittest.main()
