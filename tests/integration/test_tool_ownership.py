"""`valise-server token …` run by root beside a server that runs as another
user (`sudo valise-server token create --data /var/lib/valise-server` while
systemd runs it as `valise`): the files the tool writes in the data directory
(audit.head's checkpoint, a new audit.key after an upgrade) must stay the
server's, or its checkpoints fail with EACCES and its next start stops. The
server runs here as `nobody` (an existing user; the tests run as root), the
tool as root; everything lives in a temporary directory removed afterwards.
Python 3 standard library; VALISE_SERVER_BIN names the binary (ctest sets it)."""
import os
import pwd
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "interop"))
from server_process import ServerProcess  # noqa: E402
from test_audit_tamper import downgrade  # noqa: E402

SERVICE_USER = "nobody"


class ToolAsRoot(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            raise RuntimeError("these tests run a tool as root beside a server run as "
                               f"{SERVICE_USER}: run them as root")
        self.user = pwd.getpwnam(SERVICE_USER)
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-owner-")
        os.chmod(self.tmp.name, 0o755)  # for the server's user to reach its data
        self.server = ServerProcess(self.tmp.name, run_as=SERVICE_USER)
        self.server.start()
        self.data = self.server.data

    def tearDown(self):
        self.server.stop()
        self.tmp.cleanup()

    def tool(self, *args):
        return self.server.command(*args, "--data", str(self.data))

    def assert_all_the_servers(self):
        """Nothing in the data directory belongs to root."""
        foreign = [f"{p.relative_to(self.data)} (uid {p.lstat().st_uid})"
                   for p in [self.data, *self.data.rglob("*")]
                   if p.lstat().st_uid != self.user.pw_uid]
        self.assertEqual(foreign, [], f"not owned by {SERVICE_USER}")

    def assert_checkpoints_and_restarts(self):
        """The server still writes its checkpoint (at shutdown), starts again on
        the same directory, and the trail verifies against audit.head."""
        self.server.create_ticket("OWN-1")
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        log = self.server.log_path.read_text(errors="replace")
        self.assertNotIn("audit checkpoint not written", log)
        self.assert_all_the_servers()
        self.server.run()
        self.server.create_ticket("OWN-2")
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        out = subprocess.run([self.server.binary, "audit", "verify", "--data", str(self.data)],
                             capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"audit chain intact: \d+ records; checkpoints that match: 1")

    def test_a_token_made_by_root_leaves_audit_head_to_the_server(self):
        self.assert_all_the_servers()
        token = self.tool("token", "create", "--role", "technician", "--name", "by-root").strip()
        self.assertRegex(token, r"^vst_")
        self.assert_all_the_servers()
        self.server.api("GET", "/api/v1/tickets", token=token, expect=200)
        self.assert_checkpoints_and_restarts()

    def test_a_tool_before_the_first_start_after_an_upgrade_leaves_the_new_key_to_the_server(self):
        self.server.stop()
        downgrade(self.data)  # an installation from before the audit key
        self.tool("token", "list")
        self.assertTrue((self.data / "audit.key").exists())
        self.assert_all_the_servers()
        self.server.run()
        self.assert_checkpoints_and_restarts()


if __name__ == "__main__":
    unittest.main()
