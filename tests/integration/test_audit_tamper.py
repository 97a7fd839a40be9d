"""The audit trail against someone who can write valise.db (issue 13, item 5):
with the real valise-server stopped, the database is edited with sqlite3 as an
attacker would (a record deleted or an actor renamed, then every hash after it
recomputed with the SHA-256 formula of docs/storage.md; the newest records
deleted; the database and audit.head rolled back together) and `valise-server
audit verify` must say so, naming the first bad record or the missing count.
An untouched store, and one upgraded from unkeyed (v1) records, verify intact.
Python 3 standard library only; VALISE_SERVER_BIN names the binary (ctest sets it)."""
import hashlib
import os
import re
import shutil
import sqlite3
import ssl
import stat
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from server_process import ServerProcess  # noqa: E402

GENESIS = "0" * 64


def v1_hash(previous, seq, time, actor, action, ticket, detail):
    """The unkeyed formula of docs/storage.md, written independently of the server."""
    message = b"valise audit v1"
    for field in (previous, str(seq), str(time), actor, action, ticket, detail):
        data = field.encode()
        message += len(data).to_bytes(8, "big") + data
    return hashlib.sha256(message).hexdigest()


def rechain_v1(db, from_seq):
    """What an attacker with the formula does after an edit: renumber the records
    from `from_seq` on so that seq has no gap, and recompute their hashes."""
    rows = db.execute("SELECT seq FROM audit WHERE seq >= ? ORDER BY seq", (from_seq,)).fetchall()
    for new_seq, (old_seq,) in enumerate(rows, start=from_seq):
        db.execute("UPDATE audit SET seq = ? WHERE seq = ?", (new_seq, old_seq))
    row = db.execute("SELECT hash FROM audit WHERE seq = ?", (from_seq - 1,)).fetchone()
    previous = row[0] if row else GENESIS
    for seq, time, actor, action, ticket, detail in db.execute(
            "SELECT seq, time, actor, action, ticket_ref, detail FROM audit WHERE seq >= ? "
            "ORDER BY seq", (from_seq,)).fetchall():
        previous = v1_hash(previous, seq, time, actor, action, ticket, detail)
        db.execute("UPDATE audit SET hash = ? WHERE seq = ?", (previous, seq))


class AuditTest(unittest.TestCase):
    """One server, used then stopped; each test edits its own copy of the data
    directory."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-audit-")
        cls.server = ServerProcess(cls.tmp.name)
        cls.server.start()
        for i in range(3):
            ref = f"AUD-{i}"
            cls.server.create_ticket(ref)
            cls.server.create_link(ref)
        cls.server.api("POST", "/api/v1/tickets/AUD-1/resolve", expect=200)
        cls.server.stop()
        cls.records = cls.count(cls.server.data)

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    @staticmethod
    def count(data):
        # Closed here, not by the garbage collector: closing the last
        # connection removes valise.db-shm, which must not happen while a
        # test copies the directory.
        db = sqlite3.connect(data / "valise.db")
        try:
            return db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
        finally:
            db.close()

    def copy(self):
        """A copy of the stopped server's data directory for this test."""
        target = Path(self.tmp.name) / self._testMethodName
        shutil.copytree(self.server.data, target)
        return target

    def edit(self, data, *statements, rechain_from=None):
        db = sqlite3.connect(data / "valise.db")
        try:
            for s in statements:
                db.execute(s)
            if rechain_from is not None:
                rechain_v1(db, rechain_from)
            db.commit()
        finally:
            db.close()

    def verify(self, data, *extra):
        return subprocess.run([self.server.binary, "audit", "verify", "--data", str(data), *extra],
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)

    def assert_reported(self, out, pattern):
        self.assertNotEqual(out.returncode, 0, f"audit verify passed:\n{out.stdout}")
        self.assertNotIn("intact", out.stdout)
        first = out.stderr.splitlines()[0] if out.stderr else ""
        self.assertRegex(first, pattern, out.stderr)
        self.assertRegex(out.stderr, r"valise-server: hint: ", out.stderr)


class Tampering(AuditTest):
    def test_an_untouched_store_is_intact(self):
        out = self.verify(self.copy())
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, rf"audit chain intact: {self.records} records")

    def test_a_deleted_record_rehashed_with_the_formula_is_found(self):
        data = self.copy()
        self.edit(data, "DELETE FROM audit WHERE seq = 4", rechain_from=4)
        self.assertEqual(self.count(data), self.records - 1)
        self.assert_reported(self.verify(data), r"^valise-server: audit chain broken at record 4 ")

    def test_a_renamed_actor_rehashed_with_the_formula_is_found(self):
        data = self.copy()
        self.edit(data, "UPDATE audit SET actor = 'technician:mallory' WHERE seq = 5",
                  rechain_from=5)
        self.assert_reported(self.verify(data), r"^valise-server: audit chain broken at record 5 ")

    def test_deleting_the_newest_records_is_found(self):
        data = self.copy()
        self.edit(data, f"DELETE FROM audit WHERE seq > {self.records - 2}")
        self.assert_reported(
            self.verify(data),
            rf"^valise-server: audit trail truncated: .*counts {self.records} records, "
            rf"the database has {self.records - 2}$")

    def test_a_missing_head_file_is_reported(self):
        data = self.copy()
        (data / "audit.head").unlink()
        self.assert_reported(self.verify(data), r"^valise-server: .*audit\.head is missing")

    def test_a_forged_head_file_is_reported(self):
        data = self.copy()
        head = (data / "audit.head").read_text()
        forged = re.sub(r"records=\d+", "records=2", head)
        self.assertNotEqual(head, forged)
        (data / "audit.head").write_text(forged)
        self.edit(data, "DELETE FROM audit WHERE seq > 2")
        self.assert_reported(self.verify(data), r"^valise-server: .*audit\.head.* is not authentic")

    def test_the_key_is_beside_the_database_not_in_it_nor_in_the_log(self):
        data = self.copy()
        key_file = data / "audit.key"
        self.assertEqual(stat.S_IMODE(key_file.stat().st_mode), 0o600)
        key = re.search(r"^key=([0-9a-f]{64})$", key_file.read_text(), re.M).group(1)
        for path in (data / "valise.db", self.server.log_path):
            self.assertNotIn(key.encode(), path.read_bytes(), path)
            self.assertNotIn(bytes.fromhex(key), path.read_bytes(), path)


class Rollback(AuditTest):
    def test_a_rollback_of_database_and_head_file_is_found_from_the_journal(self):
        data = self.copy()
        before = Path(self.tmp.name) / "before"
        shutil.copytree(self.server.data, before)
        # The server goes on (the class's data directory), checkpoints to its log...
        self.server.run()
        self.server.create_ticket("AUD-later")
        self.server.stop()
        log = self.server.log_path.read_text()
        self.assertRegex(log, r"valise-audit-checkpoint v1 records=\d+ ")
        # ...then valise.db and audit.head are put back as they were.
        for name in ("valise.db", "audit.head"):
            shutil.copy2(before / name, self.server.data / name)
        for name in ("valise.db-wal", "valise.db-shm"):
            (self.server.data / name).unlink(missing_ok=True)
            if (before / name).exists():
                shutil.copy2(before / name, self.server.data / name)
        self.assertEqual(self.verify(self.server.data).returncode, 0,
                         "a consistent rollback cannot be seen without the journal")
        journal = Path(self.tmp.name) / "journal.txt"
        journal.write_text(log)
        self.assert_reported(
            self.verify(self.server.data, "--checkpoints", str(journal)),
            rf"^valise-server: audit trail truncated: .*counts {self.records + 1} records, "
            rf"the database has {self.records}$")
        line = [x for x in log.splitlines() if "valise-audit-checkpoint" in x][-1]
        self.assert_reported(self.verify(self.server.data, "--checkpoint", line),
                             r"^valise-server: audit trail truncated: ")
        # A line from another data directory's key is named as such.
        self.assertEqual(self.verify(data).returncode, 0)
        other = ServerProcess(Path(self.tmp.name) / "other")
        other.start()
        other.stop()
        foreign = [x for x in other.log_path.read_text().splitlines()
                   if "valise-audit-checkpoint" in x][-1]
        self.assert_reported(self.verify(data, "--checkpoint", foreign),
                             r"^valise-server: .*was made with another audit key")

    def test_the_server_refuses_to_start_on_a_truncated_trail(self):
        data = self.copy()
        self.edit(data, f"DELETE FROM audit WHERE seq > {self.records - 1}")
        out = subprocess.run([self.server.binary, "run", "--data", str(data)], capture_output=True,
                             text=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertNotEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stderr, r"audit\.head.*valise-server audit verify", out.stderr)


def downgrade(data):
    """Makes `data` what an installation from before the audit key looks like:
    schema 3, v1 hashes, no key, no head file."""
    (data / "audit.key").unlink()
    (data / "audit.head").unlink()
    db = sqlite3.connect(data / "valise.db")
    try:
        # The tables of migrations 4 and later, which the upgrade makes again.
        db.execute("DROP TABLE IF EXISTS audit_keyed")
        db.execute("DROP TABLE IF EXISTS sessions")
        db.execute("DROP TABLE IF EXISTS users")
        db.execute("DROP TABLE IF EXISTS comments")
        db.execute("DROP TABLE IF EXISTS ticket_pauses")
        db.execute("DROP TABLE IF EXISTS helpdesk_deliveries")
        db.execute("DROP TABLE IF EXISTS helpdesk_resolutions")
        db.execute("DROP TABLE IF EXISTS outbox")
        db.execute("DROP INDEX IF EXISTS tickets_due")
        # Schemas 6 (links for the drop page), 7 (resolution text), 8
        # (deadlines) and 9 (helpdesk connector) undone too: run migrates
        # again.
        for table, column in (("links", "mode"), ("links", "recipients"),
                              ("uploads", "link_charged"), ("tickets", "resolution"),
                              ("tickets", "response_due_at"), ("tickets", "due_at"),
                              ("tickets", "first_response_at"), ("tickets", "pending_since"),
                              ("tickets", "connector")):
            if column in [row[1] for row in db.execute(f"PRAGMA table_info({table})")]:
                db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        db.execute("PRAGMA user_version = 3")
        rechain_v1(db, 1)
        db.commit()
    finally:
        db.close()


class Upgrade(AuditTest):
    def test_v1_records_verify_and_are_protected_after_an_upgrade(self):
        data = self.copy()
        downgrade(data)
        # `run` only, on the downgraded directory (init would refuse it).
        server = ServerProcess(Path(self.tmp.name) / "upgrade")
        server.data, server.ca = data, data / "ca.pem"
        server._ssl = ssl.create_default_context(cafile=str(server.ca))
        server.port = int(re.search(r'listen = "127\.0\.0\.1:(\d+)"',
                                    (data / "server.toml").read_text()).group(1))
        server.workdir.mkdir()
        server.run()
        server.api("POST", "/api/v1/tickets", {"ref": "AUD-up", "title": "after"},
                   token=self.server.admin_token, expect=201)
        server.stop()
        key = (data / "audit.key").read_text()
        self.assertIn(f"keyed_from={self.records + 1}\n", key)
        out = self.verify(data)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, rf"audit chain intact: {self.records + 1} records")
        # A v1 record edited and rechained is caught by the first keyed record.
        self.edit(data, "UPDATE audit SET actor = 'technician:mallory' WHERE seq = 2",
                  rechain_from=2)
        self.assert_reported(self.verify(data),
                             rf"^valise-server: audit chain broken at record {self.records + 1} ")


if __name__ == "__main__":
    unittest.main()
