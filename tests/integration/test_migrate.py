"""`valise-server migrate` (issue 17): an installation on SQLite with
tickets, an upload, a bundle, agents and a request is copied into an empty
database of the throwaway PostgreSQL cluster; the server then runs on it and
serves the same bundle with the same SHA-256, and `audit verify` passes with
the same records. The target is [store] url with its password_file; a
target that is not empty, a --to with a password in it, a source a running
server holds, a source of an older schema (left as it was) and a text where
an integer belongs are each refused in one line.

ctest passes VALISE_SERVER_BIN and VALISE_TEST_POSTGRESQL_URL_FILE (fixture
`postgresql`); a missing binary or cluster fails the test, never skips."""
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from server_process import ServerProcess, postgresql_database, psql  # noqa: E402
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

    def set_target(self, url):
        """[store] url without the password, which goes in DATA/pgpassword (0600)."""
        match = re.fullmatch(r"(postgresql://[^:/@]+):([^@]+)(@.*)", url)
        self.assertIsNotNone(match, "the test cluster's URL has no password")
        secret = self.server.data / "pgpassword"
        secret.write_text(match[2] + "\n")
        secret.chmod(0o600)
        self.server.config_edits = {"store.url": f'"{match[1] + match[3]}"',
                                    "store.password_file": '"pgpassword"'}
        self.server._edit_config()
        return match[1] + match[3], match[2]

    def refused(self, result, words):
        """Exit 1, one line (and perhaps a hint) saying `words`."""
        self.assertEqual(result.returncode, 1, result.stdout)
        lines = [line for line in result.stderr.strip().splitlines()
                 if not line.startswith("valise-server: hint:")]
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertIn(words, result.stderr)

    def stopped_installation(self):
        """An installation with a ticket, stopped: its data directory."""
        self.server.start()
        self.server.create_ticket("MIG-1")
        self.server.stop()
        return self.server.data

    def sqlite(self, db, sql):
        return subprocess.run(["sqlite3", str(db), sql], check=True, capture_output=True,
                              text=True, timeout=60).stdout.strip()

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
        # No --to: [store] url and its password_file, so that no password is
        # on the command line.
        bare, password = self.set_target(url)
        moved = self.migrate(*server.location())
        self.assertEqual(moved.returncode, 0, moved.stderr)
        self.assertRegex(moved.stdout, r"copied \d+ rows of \d+ tables")
        self.assertNotIn(password, moved.stdout + moved.stderr)

        # Again into the same database: refused, in one line, nothing changed.
        self.refused(self.migrate(*server.location()), "not empty")

        # audit.seq is an identity column too: it continues after the copied
        # records (as every rowid does), so an insert that leaves it out works.
        seq = psql(url, "INSERT INTO audit (time, actor, action, ticket_ref, detail, hash) "
                   "VALUES (0, 'test', 'test', '', '', '') RETURNING seq").strip()
        self.assertEqual(int(seq), int(psql(url, "SELECT max(seq) FROM audit")))
        self.assertGreater(int(seq), 1)
        psql(url, f"DELETE FROM audit WHERE seq = {seq}")

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

    def test_a_password_in_to_is_refused(self):
        data = self.stopped_installation()
        url = empty_database()
        self.refused(self.migrate("--from", str(data), "--to", url),
                     "put the password in [store] password_file")
        self.refused(self.migrate("--from", str(data), "--to",
                                  "postgresql://valise@127.0.0.1/db?sslmode=prefer&password=pw"),
                     "put the password in [store] password_file")
        # libpq decodes a key as it decodes a value: pass%77ord is password.
        refused = self.migrate("--from", str(data), "--to",
                               "postgresql://valise@127.0.0.1/db?pass%77ord=pw&sslmode=prefer")
        self.refused(refused, "put the password in [store] password_file")
        self.assertNotIn("=pw", refused.stdout + refused.stderr)
        self.assertEqual(psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                         .strip(), "0")

    def test_a_running_server_is_refused(self):
        server = self.server
        server.start()
        url = empty_database()
        bare, _ = self.set_target(url)
        self.refused(self.migrate(*server.location()),
                     f"valise-server is running on {server.data}: stop it first")
        server.stop()
        self.assertEqual(self.migrate(*server.location()).returncode, 0)

    def test_an_older_schema_is_refused_and_left_as_it_was(self):
        data = self.stopped_installation()
        current = int(self.sqlite(data / "valise.db", "PRAGMA user_version"))
        old = Path(self.tmp.name) / "old"
        old.mkdir()
        shutil.copy(data / "valise.db", old / "valise.db")
        self.sqlite(old / "valise.db", f"PRAGMA user_version = {current - 1}")
        before = (old / "valise.db").read_bytes()
        url = empty_database()
        match = re.fullmatch(r"(postgresql://[^:/@]+):([^@]+)(@.*)", url)
        env = dict(os.environ, PGPASSWORD=match[2])
        moved = subprocess.run([self.server.binary, "migrate", "--from", str(old), "--to",
                                match[1] + match[3]], capture_output=True, text=True,
                               timeout=120, stdin=subprocess.DEVNULL, env=env)
        self.refused(moved, f"upgrade {old} first: start this version's valise-server once")
        self.assertEqual((old / "valise.db").read_bytes(), before)
        # The target was not touched either: no table made.
        self.assertEqual(psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
                         .strip(), "0")

    def test_text_in_an_integer_column_is_refused_by_name(self):
        data = self.stopped_installation()
        self.sqlite(data / "valise.db", "UPDATE tickets SET created_at = 'soon' WHERE ref = 'MIG-1'")
        rowid = self.sqlite(data / "valise.db", "SELECT rowid FROM tickets WHERE ref = 'MIG-1'")
        self.set_target(empty_database())
        self.refused(self.migrate(*self.server.location()),
                     f"table tickets, rowid {rowid}: column created_at holds text where an "
                     "integer belongs")

    def test_a_missing_source_or_a_wrong_target_is_one_line(self):
        empty = Path(self.tmp.name) / "nothing"
        empty.mkdir()
        wrong = self.migrate("--from", str(empty), "--to", "mysql://db/valise")
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("postgresql://", wrong.stderr)


if __name__ == "__main__":
    unittest.main()
