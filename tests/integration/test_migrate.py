"""`valise-server migrate` (issue 17): an installation on SQLite with
tickets, an upload, a bundle, agents and a request is copied into an empty
database of the throwaway PostgreSQL cluster; the server then runs on it and
serves the same bundle with the same SHA-256, and `audit verify` passes with
the same records. A target that is not empty is refused in one line.

ctest passes VALISE_SERVER_BIN and VALISE_TEST_POSTGRESQL_URL_FILE (fixture
`postgresql`); a missing binary or cluster fails the test, never skips."""
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from server_process import ServerProcess, postgresql_database  # noqa: E402
from test_server_agents import Agent, age_like  # noqa: E402


def empty_database():
    os.environ["VALISE_TEST_BACKEND"] = "postgresql"
    try:
        return postgresql_database()
    finally:
        os.environ.pop("VALISE_TEST_BACKEND")


class Migrate(unittest.TestCase):
    def setUp(self):
        os.environ.pop("VALISE_TEST_BACKEND", None)  # the installation starts on SQLite
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-migrate-")
        self.server = ServerProcess(self.tmp.name)
        self.addCleanup(self.tmp.cleanup)
        self.addCleanup(self.server.stop)

    def migrate(self, *args):
        return subprocess.run([self.server.binary, "migrate", *args], capture_output=True,
                              text=True, timeout=120, stdin=subprocess.DEVNULL)

    def test_an_installation_moves_to_postgresql_with_its_bundles_and_audit_chain(self):
        server = self.server
        server.start()
        server.create_ticket("MIG-1", title="disque plein")
        server.create_ticket("MIG-2", severity="blocking")
        data = age_like(70_000)
        bundle, sha, _ = server.upload_through_link("MIG-1", data)
        self.assertEqual(sha, hashlib.sha256(data).hexdigest())
        agents = [Agent(server, Path(self.tmp.name) / f"agent{i}", name=f"agent{i}").enrolled()
                  for i in range(2)]
        asked = server.api("POST", "/api/v1/tickets/MIG-2/requests",
                           {"agent": agents[0].id, "profile": "base"}, expect=201)
        server.api("POST", "/api/v1/tickets/MIG-2/comments", {"text": "on PostgreSQL next"},
                   expect=201)
        server.stop()
        before = server.command("audit", "verify", *server.location())
        self.assertIn("audit chain intact", before)

        url = empty_database()
        moved = self.migrate("--from", str(server.data), "--to", url)
        self.assertEqual(moved.returncode, 0, moved.stderr)
        self.assertRegex(moved.stdout, r"copied \d+ rows of \d+ tables")

        # Again into the same database: refused, in one line, nothing changed.
        again = self.migrate("--from", str(server.data), "--to", url)
        self.assertEqual(again.returncode, 1, again.stdout)
        self.assertEqual(len(again.stderr.strip().splitlines()), 1, again.stderr)
        self.assertIn("not empty", again.stderr)

        server.config_edits = {"store.url": f'"{url}"'}
        server._edit_config()
        # The same chain and checkpoints, read from PostgreSQL.
        self.assertEqual(server.command("audit", "verify", *server.location()), before)

        server.run()
        self.assertIn("store: postgresql://", server.log_tail(200))
        shown = server.api("GET", f"/api/v1/bundles/{bundle}", expect=200)
        self.assertEqual(shown["sha256"], sha)
        status, _, body = server.request("GET", f"/api/v1/bundles/{bundle}/content",
                                         token=server.technician_token)
        self.assertEqual((status, hashlib.sha256(body).hexdigest()), (200, sha))
        self.assertEqual({a["id"] for a in server.api("GET", "/api/v1/agents", expect=200)},
                         {a.id for a in agents})
        self.assertEqual(server.api("GET", f"/api/v1/requests/{asked['id']}", expect=200)["id"],
                         asked["id"])
        # New records chain on after the copied ones.
        server.create_ticket("MIG-3")
        server.stop()
        after = server.command("audit", "verify", *server.location())
        self.assertIn("audit chain intact", after)

    def test_a_missing_source_or_a_wrong_target_is_one_line(self):
        empty = Path(self.tmp.name) / "nothing"
        empty.mkdir()
        wrong = self.migrate("--from", str(empty), "--to", "mysql://db/valise")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("postgresql://", wrong.stderr)


if __name__ == "__main__":
    unittest.main()
