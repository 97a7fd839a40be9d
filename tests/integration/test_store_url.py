"""[store] url and password_file (issue 17): the real valise-server on a
database of the throwaway PostgreSQL cluster, its password never in the log
or in a message (shown as ***), a password file read, a URL that is not
PostgreSQL's refused at load, an unreachable database a one-line refusal, a
database whose LC_CTYPE is not C one warning at start-up.

ctest passes VALISE_SERVER_BIN and VALISE_TEST_POSTGRESQL_URL_FILE (fixture
`postgresql`); a missing binary or cluster fails the test, never skips."""
import os
import re
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path
from unittest import mock

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
import server_process  # noqa: E402
from server_process import ServerProcess, free_port, psql  # noqa: E402

PASSWORD = "s3cret-Pa55word"  # of a database that does not answer


class StoreUrl(unittest.TestCase):
    def setUp(self):
        os.environ["VALISE_TEST_BACKEND"] = "postgresql"
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-store-url-")
        self.addCleanup(self.tmp.cleanup)
        self.server = ServerProcess(self.tmp.name)
        self.addCleanup(self.server.stop)
        self.server.start()
        self.server.stop()

    def split_password(self):
        """The server's database URL without its password, and the password (the
        test cluster wants one over TCP)."""
        match = re.fullmatch(r"(postgresql://valise):([^@]+)(@.*)", self.server.database_url)
        self.assertIsNotNone(match, "the test cluster's URL has no password")
        return match[1] + match[3], match[2]

    def test_a_password_in_the_url_is_never_logged(self):
        _, password = self.split_password()
        self.server.run()
        self.server.create_ticket("URL-1")
        self.server.stop()
        log = self.server.log_path.read_text()
        self.assertIn("store: postgresql://valise:***@127.0.0.1:", log)
        self.assertNotIn(password, log)

    def test_a_password_file_is_read(self):
        bare, password = self.split_password()
        secret = Path(self.server.data) / "pgpassword"
        secret.write_text(password + "\n")
        secret.chmod(0o600)
        self.server.config_edits = {"store.url": f'"{bare}"',
                                    "store.password_file": '"pgpassword"'}
        self.server._edit_config()
        self.server.run()
        self.server.create_ticket("URL-2")
        self.server.stop()
        self.assertNotIn(password, self.server.log_path.read_text())
        # A missing file is a refusal naming it.
        secret.unlink()
        failed = subprocess.run([self.server.binary, "run", *self.server.location()],
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("pgpassword", failed.stderr)

    def test_a_password_file_others_may_read_is_refused(self):
        bare, password = self.split_password()
        secret = Path(self.server.data) / "pgpassword"
        secret.write_text(password + "\n")
        secret.chmod(0o640)
        self.server.config_edits = {"store.url": f'"{bare}"',
                                    "store.password_file": '"pgpassword"'}
        self.server._edit_config()
        failed = subprocess.run([self.server.binary, "token", "list", *self.server.location()],
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(failed.returncode, 1)
        self.assertIn(f"chmod 600 {secret}", failed.stderr)
        self.assertEqual(len(failed.stderr.strip().splitlines()), 1, failed.stderr)
        self.assertNotIn(password, failed.stderr + failed.stdout)
        secret.chmod(0o600)
        listed = subprocess.run([self.server.binary, "token", "list", *self.server.location()],
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(listed.returncode, 0, listed.stderr)

    def test_an_unreachable_database_is_one_line_without_its_password(self):
        dead = f"postgresql://valise:{PASSWORD}@127.0.0.1:{free_port()}/valise"
        self.server.config_edits = {"store.url": f'"{dead}"'}
        self.server._edit_config()
        failed = subprocess.run([self.server.binary, "token", "list", *self.server.location()],
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("cannot open the store", failed.stderr)
        self.assertIn("valise:***@127.0.0.1", failed.stderr)
        self.assertNotIn(PASSWORD, failed.stderr + failed.stdout)

    def test_a_database_whose_ctype_is_not_c_is_warned_of(self):
        warning = "database: its LC_CTYPE is"
        # The test cluster's databases are C (initdb --locale=C): no warning.
        self.assertNotIn(warning, self.server.log_path.read_text())
        base = self.server.database_url
        name = "valise_ctype_" + os.urandom(4).hex()
        psql(base, f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                   "LC_CTYPE 'C.UTF-8' LC_COLLATE 'C'")
        node = ServerProcess(Path(self.tmp.name) / "ctype")
        self.addCleanup(node.stop)
        with mock.patch.object(server_process, "postgresql_database",
                               lambda: base[:base.rfind("/") + 1] + name):
            node.start()
        # It serves, and says once what differs and what to do.
        node.create_ticket("CTYPE-1")
        log = node.log_path.read_text()
        self.assertEqual(log.count(warning), 1, log)
        line = next(line for line in log.splitlines() if warning in line)
        self.assertIn("LC_CTYPE is C.UTF-8, not C", line)
        self.assertIn("create the database with LC_CTYPE 'C'", line)

    def test_a_url_that_is_not_postgresql_is_refused_at_load(self):
        self.server.config_edits = {"store.url": '"mysql://db/valise"'}
        self.server._edit_config()
        failed = subprocess.run([self.server.binary, "run", *self.server.location()],
                                capture_output=True, text=True, timeout=60,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(failed.returncode, 1)
        self.assertIn("store.url must be empty", failed.stderr)


if __name__ == "__main__":
    unittest.main()
