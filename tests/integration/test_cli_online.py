"""The technician's and the client's online `valise` commands against the real
valise-server on loopback: tickets, upload links, `valise send` (with a link or
a technician token, resumed after a SIGKILL and after a server restart),
bundle list/get/delete, the purge on resolution, and the errors a user must be
able to act on (refused token, resolved ticket, expired link, untrusted
certificate). Python 3 standard library only.

ctest passes VALISE_BIN (the valise binary) and VALISE_SERVER_BIN; a missing
binary fails the tests, never skips them."""
import hashlib
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
from harness import TestCase, binary  # noqa: E402
from server_process import ServerProcess  # noqa: E402

TIMEOUT = 120  # seconds for any one valise command
AGE_PREFIX = b"age-encryption.org/v1\n-> X25519 dGVzdA\n"


def age_like(path, size):
    """A file of `size` bytes that begins like an age file (all the server checks)
    and continues with random bytes, so that no two runs upload the same file."""
    with open(path, "wb") as f:
        f.write(AGE_PREFIX)
        left = size - len(AGE_PREFIX)
        while left > 0:
            block = os.urandom(min(left, 1 << 20))
            f.write(block)
            left -= len(block)
    return path


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


class OnlineTest(TestCase):
    """One server per test class; every test has its own home directory (so its
    own resume state and no client config unless it writes one) and ticket."""

    @classmethod
    def setUpClass(cls):
        cls.valise = binary("VALISE_BIN", os.environ.get("VALISE"))
        cls.server_tmp = tempfile.TemporaryDirectory(prefix="valise-cli-online-")
        cls.server = ServerProcess(cls.server_tmp.name)
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.server_tmp.cleanup()

    def setUp(self):
        super().setUp()
        self.home = self.tmp / "home"
        self.home.mkdir()
        self.ref = f"T-{self._testMethodName[5:35]}-{time.monotonic_ns() % 1000000}"

    def env(self, **extra):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE_")}
        env.update(HOME=str(self.home), XDG_STATE_HOME=str(self.home / "state"),
                   XDG_CONFIG_HOME=str(self.home / "config"))
        env.pop("VALISE", None)
        env.update(extra)
        return env

    def connection(self, token=None):
        return ["--server", self.server.url, "--ca", str(self.server.ca),
                "--token", token or self.server.technician_token]

    def run_valise(self, *args, env=None, timeout=TIMEOUT):
        return subprocess.run([self.valise, *[str(a) for a in args]], capture_output=True,
                              timeout=timeout, stdin=subprocess.DEVNULL, start_new_session=True,
                              env=env or self.env())

    def ok(self, *args, **kwargs):
        return self.assert_ok(self.run_valise(*args, **kwargs))

    def ok_json(self, *args, **kwargs):
        return json.loads(self.ok(*args, "--json", **kwargs).stdout)

    def make_ticket(self, ref=None, severity="non-blocking"):
        ref = ref or self.ref
        return self.ok_json("ticket", "create", ref, "--title", "disk full on db1",
                            "--severity", severity, *self.connection())

    def make_link(self, ref=None, *options):
        return self.ok_json("link", "create", ref or self.ref, *options, *self.connection())

    def send_with_link(self, path, link, *options):
        return self.run_valise("send", path, "--link", link["token"], "--server", self.server.url,
                               "--ca", self.server.ca, *options)

    def upload_offset(self, upload_url, token):
        status, headers, _ = self.server.request(
            "HEAD", "/" + upload_url.split("/", 3)[3], token=token,
            headers={"Tus-Resumable": "1.0.0"})
        self.assertEqual(status, 200, f"HEAD {upload_url}")
        return int(headers["upload-offset"]), headers

    def saved_upload_urls(self):
        state = self.home / "state" / "valise" / "uploads"
        if not state.is_dir():
            return []
        urls = []
        for path in state.glob("*.json"):
            try:
                urls.append(json.loads(path.read_text())["upload_url"])
            except (ValueError, KeyError, OSError):
                pass  # being written
        return urls


class Tickets(OnlineTest):
    def test_lifecycle(self):
        created = self.make_ticket(severity="blocking")
        self.assertEqual((created["ref"], created["severity"], created["status"]),
                         (self.ref, "blocking", "open"))
        human = self.ok("ticket", "show", self.ref, *self.connection()).stdout.decode()
        self.assertIn(self.ref, human)
        self.assertIn("blocking", human)
        listed = self.ok_json("ticket", "list", "--status", "open", "--severity", "blocking",
                              *self.connection())
        self.assertIn(self.ref, [t["ref"] for t in listed])
        table = self.ok("ticket", "list", *self.connection()).stdout.decode()
        self.assertTrue(table.startswith("REF"), table)
        self.assertIn(self.ref, table)

        resolved = self.ok_json("ticket", "resolve", self.ref, *self.connection())
        self.assertEqual(resolved["ticket"]["status"], "resolved")
        self.assertEqual(resolved["purged"], [])
        listed = self.ok_json("ticket", "list", "--status", "open", *self.connection())
        self.assertNotIn(self.ref, [t["ref"] for t in listed])
        again = self.run_valise("ticket", "resolve", self.ref, *self.connection())
        self.assert_valise_error(again, r"resolv.*\(409 ticket_resolved\)")

        reopened = self.ok_json("ticket", "reopen", self.ref, *self.connection())
        self.assertEqual(reopened["status"], "open")
        human = self.ok("ticket", "resolve", self.ref, *self.connection()).stdout.decode()
        self.assertEqual(human, f"resolved ticket {self.ref}\nnothing was stored for it\n")

    def test_duplicate_and_unknown_tickets_show_the_servers_error(self):
        self.make_ticket()
        duplicate = self.run_valise("ticket", "create", self.ref, "--title", "x",
                                    *self.connection())
        self.assert_valise_error(duplicate, r"creating ticket .*\(409 ticket_exists\)")
        missing = self.run_valise("ticket", "show", "NO-SUCH-TICKET", *self.connection())
        line = self.assert_valise_error(missing, r"ticket NO-SUCH-TICKET: .*\(404 ticket_not_found\)")
        self.assertIn("valise: hint: list tickets", missing.stderr.decode(), line)

    def test_wrong_token_is_refused_and_never_printed(self):
        wrong = "vst_" + "a" * 52
        result = self.run_valise("ticket", "list", *self.connection(token=wrong))
        self.assert_valise_error(result, r"^valise: the server refused the token \(401\)$")
        self.assertIn("valise: hint: ", result.stderr.decode())
        self.assertNotIn(wrong, (result.stdout + result.stderr).decode())

    def test_environment_and_config_file(self):
        self.make_ticket()
        env = self.env(VALISE_SERVER=self.server.url, VALISE_TOKEN=self.server.technician_token,
                       VALISE_CA=str(self.server.ca))
        shown = json.loads(self.ok("ticket", "show", self.ref, "--json", env=env).stdout)
        self.assertEqual(shown["ref"], self.ref)

        config = self.home / "config" / "valise" / "client.toml"
        config.parent.mkdir(parents=True)
        config.write_text(f'server = "{self.server.url}"\n'
                          f'token = "{self.server.technician_token}"\n'
                          f'ca = "{self.server.ca}"\n')
        config.chmod(0o644)
        exposed = self.run_valise("ticket", "show", self.ref)
        self.assert_valise_error(exposed, r"client\.toml: holds a token but other users may read")
        config.chmod(0o600)
        self.assertEqual(self.ok_json("ticket", "show", self.ref)["ref"], self.ref)

    def test_missing_server_and_token(self):
        self.assert_valise_error(self.run_valise("ticket", "list"), r"no server given")
        self.assert_valise_error(self.run_valise("ticket", "list", "--server", self.server.url),
                                 r"no API token given")
        self.assert_valise_error(
            self.run_valise("ticket", "list", "--server", "http://127.0.0.1:1", "--token", "x"),
            r"not an https:// URL")


class Certificates(OnlineTest):
    def test_untrusted_certificate(self):
        # No --ca: the system's trust store, which does not know the server's CA.
        result = self.run_valise("ticket", "list", "--server", self.server.url, "--token",
                                 self.server.technician_token)
        self.assert_valise_error(result, r"https://127\.0\.0\.1:\d+: .*certificate is not trusted")
        self.assertIn("--ca", result.stderr.decode().splitlines()[-1])

    def test_other_servers_ca(self):
        with tempfile.TemporaryDirectory(prefix="valise-other-ca-") as other:
            other_server = ServerProcess(other)
            other_server._command("init", "--data", str(other_server.data), "--listen",
                                  "127.0.0.1:1", "--hostname", "localhost")
            ca = other_server.data / "ca.pem"
            result = self.run_valise("ticket", "list", "--server", self.server.url, "--ca", ca,
                                     "--token", self.server.technician_token)
            self.assert_valise_error(result, r"certificate is not trusted")

    def test_ca_file_that_is_not_pem(self):
        bogus = self.tmp / "ca.pem"
        bogus.write_text("not a certificate\n")
        result = self.run_valise("ticket", "list", "--server", self.server.url, "--ca", bogus,
                                 "--token", self.server.technician_token)
        self.assert_valise_error(result, r"ca\.pem: cannot load the CA certificates")


class Sending(OnlineTest):
    def test_link_send_list_get_resolve(self):
        self.make_ticket()
        link = self.make_link(self.ref, "--expires-in", "2h", "--max-bytes", "64M")
        self.assertTrue(link["token"].startswith("vsl_"))
        self.assertTrue(link["upload_url"].endswith("/api/v1/uploads"))
        human = self.ok("link", "create", self.ref, *self.connection()).stdout.decode()
        self.assertIn("upload URL", human)
        self.assertIn("vsl_", human)

        # A real bundle: packed to a key, sent, fetched back and opened.
        key = self.tmp / "key.txt"
        self.ok("keygen", "-o", key)
        recipient = [line.split(": ", 1)[1] for line in key.read_text().splitlines()
                     if line.startswith("# public key: ")][0]
        logs = self.tmp / "logs"
        logs.mkdir()
        (logs / "app.log").write_text("line\n" * 5000)
        bundle = self.tmp / "bundle.age"
        self.ok("pack", logs, "-o", bundle, "-r", recipient)
        sent = self.send_with_link(bundle, link, "--json")
        self.assert_ok(sent)
        sent = json.loads(sent.stdout)
        self.assertEqual(sent["sha256"], sha256_of(bundle))
        self.assertTrue(sent["verified"])
        self.assertEqual(sent["resumed_from"], 0)

        # The upload URL the technician hands out works as --server too.
        again = self.run_valise("send", bundle, "--link", link["token"], "--server",
                                link["upload_url"].replace("localhost", "127.0.0.1"), "--ca",
                                self.server.ca)
        self.assertIn("verified", self.assert_ok(again).stdout.decode())

        listed = self.ok_json("bundle", "list", self.ref, *self.connection())
        self.assertEqual(len(listed), 2)
        entry = [b for b in listed if b["id"] == sent["bundle_id"]][0]
        self.assertEqual((entry["size"], entry["sha256"], entry["filename"]),
                         (bundle.stat().st_size, sha256_of(bundle), "bundle.age"))
        self.assertIn(sent["bundle_id"],
                      self.ok("bundle", "list", self.ref, *self.connection()).stdout.decode())

        fetched = self.tmp / "fetched.age"
        got = self.ok_json("bundle", "get", sent["bundle_id"], "-o", fetched, *self.connection())
        self.assertEqual(fetched.read_bytes(), bundle.read_bytes())
        self.assertEqual(got["sha256"], sha256_of(bundle))
        exists = self.run_valise("bundle", "get", sent["bundle_id"], "-o", fetched,
                                 *self.connection())
        self.assert_valise_error(exists, r"fetched\.age: file exists")
        self.ok("bundle", "get", sent["bundle_id"], "-o", fetched, "--force", *self.connection())
        out = self.tmp / "opened"
        self.ok("open", fetched, "-i", key, "-d", out)
        extracted = list(out.rglob("app.log"))
        self.assertEqual(len(extracted), 1, list(out.rglob("*")))
        self.assertEqual(extracted[0].read_text(), "line\n" * 5000)

        # Resolution destroys both bundles and says so, with their SHA-256.
        human = self.ok("ticket", "resolve", self.ref, *self.connection()).stdout.decode()
        self.assertIn("destroyed 2 bundle(s)", human)
        self.assertIn(sha256_of(bundle), human)
        self.assertIn(sent["bundle_id"], human)
        self.assertEqual(self.ok_json("bundle", "list", self.ref, *self.connection()), [])
        gone = self.run_valise("bundle", "get", sent["bundle_id"], "-o", self.tmp / "gone.age",
                               *self.connection())
        self.assert_valise_error(gone, r"\(404 bundle_not_found\)")
        self.assertFalse((self.tmp / "gone.age").exists())

        # The link died with the ticket, and says so.
        late = self.send_with_link(bundle, link)
        self.assert_valise_error(late, r"ticket_resolved")

    def test_send_with_ticket_then_resolved_ticket_fails(self):
        self.make_ticket()
        data = age_like(self.tmp / "diag.age", 3 << 20)
        sent = self.ok_json("send", data, "--ticket", self.ref, *self.connection())
        self.assertEqual(sent["sha256"], sha256_of(data))
        human = self.ok("send", data, "--ticket", self.ref, *self.connection()).stdout.decode()
        self.assertIn(f"to ticket {self.ref}", human)
        self.assertIn("verified", human)

        deleted = self.ok_json("bundle", "delete", sent["bundle_id"], *self.connection())
        self.assertEqual([p["id"] for p in deleted["purged"]], [sent["bundle_id"]])
        resolved = self.ok_json("ticket", "resolve", self.ref, *self.connection())
        self.assertEqual(len(resolved["purged"]), 1)

        refused = self.run_valise("send", data, "--ticket", self.ref, *self.connection())
        self.assert_valise_error(refused, r"sending .*diag\.age: .*resolved.*\(409 ticket_resolved\)")
        self.assertEqual(self.saved_upload_urls(), [])

    def test_link_for_the_drop_page_with_recipients_or_a_passphrase(self):
        self.make_ticket()
        key = self.tmp / "key.txt"
        self.ok("keygen", "-o", key)
        recipient = [line.split(": ", 1)[1] for line in key.read_text().splitlines()
                     if line.startswith("# public key: ")][0]
        human = self.ok("link", "create", self.ref, "--recipient", recipient,
                        *self.connection()).stdout.decode()
        drop = re.search(r"^drop URL: (\S+)$", human, re.M)
        self.assertIsNotNone(drop, human)
        self.assertRegex(drop.group(1), rf"^https://localhost:{self.server.port}/drop#vsl_[a-z0-9]+$")
        self.assertIn("encrypted to 1 age key", human)
        narrowed = self.make_link(self.ref, "--recipient", recipient)
        self.assertEqual((narrowed["mode"], narrowed["recipients"]), ("recipients", [recipient]))
        self.assertTrue(narrowed["drop_url"].endswith("#" + narrowed["token"]))
        phrase = self.ok("link", "create", self.ref, "--passphrase",
                         *self.connection()).stdout.decode()
        self.assertIn("drop URL: https://", phrase)
        self.assertIn("passphrase", phrase)
        listed = self.ok("link", "list", self.ref, *self.connection()).stdout.decode()
        self.assertRegex(listed, r"MODE")
        self.assertEqual(len(re.findall(r"\brecipients\b", listed)), 2, listed)
        self.assertEqual(len(re.findall(r"\bpassphrase\b", listed)), 1, listed)
        # Mistakes get one line saying what to do, before any request.
        both = self.run_valise("link", "create", self.ref, "--passphrase", "--recipient", recipient,
                               *self.connection())
        self.assert_valise_error(both, r"--passphrase cannot be combined with --recipient")
        # The last character changed (to another one: a key may end in "x").
        last = "q" if recipient[-1] != "q" else "p"
        typo = self.run_valise("link", "create", self.ref, "--recipient", recipient[:-1] + last,
                               *self.connection())
        self.assert_valise_error(typo, r"--recipient age1\S+: ")

    def test_expired_link(self):
        self.make_ticket()
        link = self.make_link(self.ref, "--expires-in", "1s")
        time.sleep(2.2)
        data = age_like(self.tmp / "late.age", 4096)
        self.assert_valise_error(self.send_with_link(data, link),
                                 r"the server refused the upload link \(401\): .*expired")

    def test_plaintext_is_refused_before_sending(self):
        self.make_ticket()
        plain = self.tmp / "notes.txt"
        plain.write_text("password=hunter2\n" * 100)
        result = self.run_valise("send", plain, "--ticket", self.ref, *self.connection())
        self.assert_valise_error(result, r"notes\.txt: not an age-encrypted file")
        self.assertEqual(self.server.bundles(self.ref), [])

    def test_send_needs_link_or_ticket(self):
        data = age_like(self.tmp / "x.age", 4096)
        self.assert_valise_error(self.run_valise("send", data, *self.connection()),
                                 r"send needs --link TOKEN or --ticket REF")


class Resume(OnlineTest):
    SIZE = 64 << 20

    def start_throttled_send(self, data, link, rate="4M"):
        return subprocess.Popen(
            [self.valise, "send", str(data), "--link", link["token"], "--server", self.server.url,
             "--ca", str(self.server.ca), "--limit-rate", rate, "--json"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
            env=self.env(), start_new_session=True)

    def wait_for_offset(self, process, link, minimum=1, timeout=60):
        """The saved upload's URL once the server reports at least `minimum` bytes."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                self.fail("valise send ended before it could be interrupted: "
                          f"{process.stderr.read().decode(errors='replace')}")
            for url in self.saved_upload_urls():
                offset, _ = self.upload_offset(url, link["token"])
                if offset >= minimum:
                    return url
            time.sleep(0.1)
        process.kill()
        self.fail("the server never reported any received bytes")

    def test_resume_after_sigkill(self):
        self.make_ticket()
        link = self.make_link(self.ref)
        data = age_like(self.tmp / "big.age", self.SIZE)
        process = self.start_throttled_send(data, link)
        url = self.wait_for_offset(process, link)
        process.kill()
        process.communicate(timeout=30)
        # The server keeps what it received; let it notice the cut connection.
        time.sleep(0.5)
        before, _ = self.upload_offset(url, link["token"])
        self.assertGreater(before, 0)
        self.assertLess(before, self.SIZE)

        rerun = self.send_with_link(data, link, "--json")
        self.assert_ok(rerun)
        result = json.loads(rerun.stdout)
        self.assertFalse(result["started_over"])
        self.assertEqual(result["upload_url"], url, "a new upload instead of the saved one")
        self.assertGreaterEqual(result["resumed_from"], before)
        self.assertEqual(result["sha256"], sha256_of(data))
        # The interrupted upload itself became the bundle.
        after, headers = self.upload_offset(url, link["token"])
        self.assertEqual(after, self.SIZE)
        self.assertEqual(headers.get("valise-bundle-id"), result["bundle_id"])
        self.assertEqual(headers.get("valise-bundle-sha256"), sha256_of(data))
        bundles = self.server.bundles(self.ref)
        self.assertEqual([(b["id"], b["sha256"]) for b in bundles],
                         [(result["bundle_id"], sha256_of(data))])
        self.assertEqual(self.saved_upload_urls(), [], "resume state left after success")

    def test_resume_across_a_server_restart(self):
        self.make_ticket()
        link = self.make_link(self.ref)
        data = age_like(self.tmp / "restart.age", 16 << 20)
        process = self.start_throttled_send(data, link, rate="2M")
        url = self.wait_for_offset(process, link)
        # The same server (data, port) stops and starts again under the client.
        self.server.stop()
        log = open(self.server.log_path, "ab")
        self.server.process = subprocess.Popen(
            [self.server.binary, "run", "--data", str(self.server.data)], stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.server.pid = self.server.process.pid
        out, err = process.communicate(timeout=120)
        self.assertEqual(process.returncode, 0, err.decode(errors="replace"))
        self.assertIn("retrying in", err.decode())
        result = json.loads(out)
        self.assertEqual(result["upload_url"], url)
        self.assertEqual(result["sha256"], sha256_of(data))
        self.assertEqual([b["sha256"] for b in self.server.bundles(self.ref)], [sha256_of(data)])


if __name__ == "__main__":
    unittest.main()
