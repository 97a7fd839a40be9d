"""The whole request flow with real processes on loopback: valise-server,
valise-agent (enrolled with a one-time token, mutual TLS), the technician's
`valise` (request, bundle get, open). The agent collects a fixture tree and a
real journal file (written by systemd-journal-remote from export-format
text), redacts, encrypts, spools and uploads; the test opens the bundle and
checks files, redactions and the manifest. Then the site's controls
(forbidden profiles, operator approval) and the faults: a cut connection, the
agent killed with SIGKILL, the server restarted, each mid-upload, each ending
with exactly one correct bundle. Python 3 standard library.

ctest passes VALISE_SERVER_BIN, VALISE_AGENT_BIN and VALISE_BIN; a missing
binary fails the tests, never skips them."""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
from agent_process import AgentProcess, Relay, toml_list, toml_string  # noqa: E402
from connect_proxy import ConnectProxy  # noqa: E402
from server_process import ServerProcess  # noqa: E402

JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote"
SECRET = "hunter2-Zq8vX"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig"


def valise_bin():
    path = shutil.which(os.environ.get("VALISE_BIN", ""))
    if not path:
        raise RuntimeError("VALISE_BIN: valise not found; ctest sets it to the built binary")
    return path


def write_journal(directory, entries):
    """A real journal file from export-format entries (unit, priority, message, age_s)."""
    directory.mkdir(parents=True, exist_ok=True)
    now = int(time.time() * 1e6)
    text = ""
    for i, (unit, priority, message, age_s) in enumerate(entries):
        text += (f"__REALTIME_TIMESTAMP={now - age_s * 1_000_000}\n"
                 f"__MONOTONIC_TIMESTAMP={1000 + i}\n"
                 "_BOOT_ID=0123456789abcdef0123456789abcdef\n"
                 f"_SYSTEMD_UNIT={unit}\nPRIORITY={priority}\n"
                 f"SYSLOG_IDENTIFIER={unit.split('.')[0]}\n_HOSTNAME=site-host\n"
                 f"MESSAGE={message}\n\n")
    if not Path(JOURNAL_REMOTE).exists():
        raise RuntimeError(f"{JOURNAL_REMOTE} missing: apt-get install systemd-journal-remote")
    subprocess.run([JOURNAL_REMOTE, f"--output={directory / 'remote.journal'}", "-"],
                   input=text.encode(), check=True, capture_output=True, timeout=60)


class EndToEnd(unittest.TestCase):
    """A server per class; per test a ticket, an agent and its site."""
    rate = None  # relay throttle for the fault tests
    server_config = {}  # {"section.key": "TOML value"} for this class's server

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-e2e-")
        cls.server = ServerProcess(cls.tmp.name, config_edits=cls.server_config)
        cls.server.start()
        cls.valise = valise_bin()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="site-", dir=self.tmp.name))
        self.ref = f"T-{self._testMethodName[5:30]}-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(self.ref)
        self.agents = []
        self.relay = None

    def tearDown(self):
        for agent in self.agents:
            agent.kill()
        if self.relay:
            self.relay.close()

    # --- the site -----------------------------------------------------------

    def fixture_tree(self, big_random=0):
        logs = self.work / "var-log"
        (logs / "app").mkdir(parents=True)
        (logs / "app" / "app.log").write_text(
            "2025-11-22 10:00:01 INFO started\n"
            f"2025-11-22 10:00:02 DEBUG connecting with password={SECRET} to db\n"
            f"2025-11-22 10:00:03 INFO GET /api Authorization: Bearer {TOKEN}\n"
            "2025-11-22 10:00:04 INFO done\n")
        (logs / "app" / "app.log.1").write_text("older line\n")
        (logs / "app" / "notes.txt").write_text("not matched by the glob\n")
        if big_random:
            # Hardly compressible, so the bundle is large and uploads take time;
            # base64, so that no byte sequence looks like a secret to redact.
            (logs / "app" / "dump.log").write_bytes(base64.encodebytes(os.urandom(big_random)))
        write_journal(self.work / "journal", [
            ("web.service", 3, f"upstream failed, retrying with password={SECRET}", 600),
            ("web.service", 6, "request served", 500),
            ("web.service", 7, "debug noise below the priority cut", 400),
            ("db.service", 3, "another unit's message", 300),
            ("web.service", 3, "too old for the window", 30 * 86400),
        ])
        return logs

    def site(self, profile_extra="", delivery=None, remote=True, name="diag", via=None,
             settings=""):
        logs = self.fixture_tree(big_random=getattr(self, "big_random", 0))
        profile = (f"[profiles.{name}]\nremote = {'true' if remote else 'false'}\n"
                   f"files = {toml_list([str(logs / 'app' / '*.log*')])}\n"
                   f'journal = ["web.service"]\njournal_priority = "info"\n'
                   f"journal_directory = {toml_string(self.work / 'journal')}\n"
                   'commands = [["/bin/echo", "hello from a command"]]\n'
                   f"{profile_extra}\n"
                   "[profiles.local-only]\nremote = false\n"
                   f"files = {toml_list([str(logs / 'app' / 'app.log')])}\n")
        if delivery is None:
            self.identity = self.work / "support.key"
            out = subprocess.run([self.valise, "keygen", "-o", str(self.identity)],
                                 capture_output=True, text=True, check=True)
            recipient = [w for w in (out.stdout + out.stderr).split() if w.startswith("age1")][0]
            delivery = f"[delivery]\nrecipients = [{toml_string(recipient)}]\n"
        url = self.server.url if via is None else f"https://127.0.0.1:{via}"
        agent = AgentProcess(self.work, url, profile, delivery, settings)
        agent.enroll(self.server.create_enroll_token(), self.server.ca)
        self.agents.append(agent)
        self.agent_id = json.loads((agent.state / "identity.json").read_text())["agent_id"]
        return agent

    # --- the technician -----------------------------------------------------

    def run_valise(self, *args, check=True):
        env = dict(os.environ, HOME=str(self.work / "home"))
        result = subprocess.run(
            [self.valise, *map(str, args), "--server", self.server.url, "--ca",
             str(self.server.ca), "--token", self.server.technician_token],
            capture_output=True, text=True, timeout=120, env=env)
        if check and result.returncode != 0:
            raise AssertionError(f"valise {' '.join(map(str, args))}: {result.returncode}\n"
                                 f"{result.stdout}{result.stderr}")
        return result

    def ask(self, profile="diag", **extra):
        body = {"agent": self.agent_id, "profile": profile, **extra}
        return self.server.api("POST", f"/api/v1/tickets/{self.ref}/requests", body,
                               expect=201)["id"]

    def wait_request(self, request_id, states=("done", "failed"), timeout=90, agent=None):
        deadline = time.monotonic() + timeout
        while True:
            r = self.server.api("GET", f"/api/v1/requests/{request_id}", expect=200)
            if r["state"] in states:
                return r
            if time.monotonic() > deadline:
                log = agent.log() if agent else ""
                raise AssertionError(f"request {request_id} still {r['state']} after "
                                     f"{timeout} s:\n{log}\n{self.server.log_tail()}")
            time.sleep(0.2)

    def open_bundle(self, bundle_id, *key_args):
        path = self.work / f"{bundle_id}.age"
        self.run_valise("bundle", "get", bundle_id, "-o", path)
        out = self.work / f"opened-{bundle_id}"
        opened = subprocess.run([self.valise, "open", path, *map(str, key_args), "-d", out,
                                 "--json"], check=True, capture_output=True, timeout=120)
        return out, json.loads(opened.stdout)["manifest"]

    def only_bundle(self):
        bundles = self.server.bundles(self.ref)
        self.assertEqual(len(bundles), 1, bundles)
        return bundles[0]


class Flow(EndToEnd):
    def test_request_collect_upload_open_with_the_pinned_identity(self):
        agent = self.site().start()
        request_id = self.ask(since=time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                  time.gmtime(time.time() - 86400)))
        r = self.wait_request(request_id, agent=agent)
        self.assertEqual(r["state"], "done", r)
        bundle = self.only_bundle()
        self.assertEqual(bundle["id"], r["bundle_id"])
        self.assertEqual(bundle["source"], f"agent:{self.agent_id}")
        out, manifest = self.open_bundle(r["bundle_id"], "-i", self.identity)

        # The files, redacted; the glob's other match; not what it did not match.
        app = self.work / "var-log" / "app"
        stored = out / "files" / str(app / "app.log").lstrip("/")
        text = stored.read_text()
        self.assertIn("2025-11-22 10:00:04 INFO done", text)
        self.assertIn("password=", text)
        self.assertNotIn(SECRET, text)
        self.assertNotIn(TOKEN, text)
        self.assertTrue((out / "files" / str(app / "app.log.1").lstrip("/")).is_file())
        self.assertFalse((out / "files" / str(app / "notes.txt").lstrip("/")).exists())
        # The journal: the unit, the priority and the window, redacted too.
        journal = "".join(p.read_text() for p in (out / "journal").rglob("*") if p.is_file())
        self.assertIn("upstream failed", journal)
        self.assertIn("request served", journal)
        self.assertNotIn("debug noise", journal)
        self.assertNotIn("another unit", journal)
        self.assertNotIn("too old", journal)
        self.assertNotIn(SECRET, journal)
        # The command and the facts.
        command = "".join(p.read_text() for p in (out / "commands").rglob("*") if p.is_file())
        self.assertIn("hello from a command", command)
        self.assertIn("kernel", (out / "facts.json").read_text())
        # The manifest tells the truth.
        self.assertEqual(manifest["ticket"], self.ref)
        self.assertEqual(manifest["profile"], "diag")
        self.assertIsNotNone(manifest.get("since"))
        self.assertGreaterEqual(manifest["redactions"], 3)
        by_path = {i["path"]: i for i in manifest["items"]}
        item = by_path["files/" + str(app / "app.log").lstrip("/")]
        self.assertGreaterEqual(item["redactions"], 2)
        self.assertEqual(item["size"], stored.stat().st_size)
        # Nothing readable was left in the spool; the secret is nowhere on the agent's disk.
        self.assertEqual(list((agent.state / "spool").glob("*")), [])
        for path in agent.state.rglob("*"):
            if path.is_file():
                self.assertNotIn(SECRET.encode(), path.read_bytes(), path)
        self.assertNotIn(SECRET, agent.log())

    def test_passphrase_goes_to_the_notifier_and_nowhere_else(self):
        captured = self.work / "sms.txt"
        notifier = self.work / "notify.sh"
        notifier.write_text(f"#!/bin/sh\n{{ echo \"$VALISE_TICKET $VALISE_JOB\"; cat; }} > {captured}\n")
        notifier.chmod(0o755)
        agent = self.site(delivery=f"[delivery]\nnotifier = [{toml_string(notifier)}]\n").start()
        request_id = self.ask()
        r = self.wait_request(request_id, agent=agent)
        self.assertEqual(r["state"], "done", r)
        header, passphrase = captured.read_text().splitlines()
        self.assertEqual(header, f"{self.ref} {request_id}")
        self.assertGreaterEqual(len(passphrase), 20)
        secret_file = self.work / "pass.txt"
        secret_file.write_text(passphrase + "\n")
        out, manifest = self.open_bundle(r["bundle_id"], "--passphrase-file", secret_file)
        self.assertEqual(manifest["ticket"], self.ref)
        # Not in the server's view of the request, its log or audit, nor the agent's files.
        self.assertNotIn(passphrase, json.dumps(r))
        self.assertNotIn(passphrase, self.server.log_tail(10000))
        self.assertNotIn(passphrase, agent.log())
        for path in agent.state.rglob("*"):
            if path.is_file():
                self.assertNotIn(passphrase.encode(), path.read_bytes(), path)

    def test_a_failing_notifier_fails_the_job_with_its_reason(self):
        notifier = self.work / "broken.sh"
        notifier.write_text("#!/bin/sh\necho 'gateway unreachable' >&2\nexit 3\n")
        notifier.chmod(0o755)
        agent = self.site(delivery=f"[delivery]\nnotifier = [{toml_string(notifier)}]\n").start()
        r = self.wait_request(self.ask(), agent=agent)
        self.assertEqual(r["state"], "failed")
        self.assertIn("exit status 3", r["error"])
        self.assertIn("gateway unreachable", r["error"])
        self.assertEqual(self.server.bundles(self.ref), [])
        self.assertEqual(list((agent.state / "spool").glob("*")), [])

    def test_local_collect_for_sending_by_hand(self):
        agent = self.site()
        out = agent.command("collect", "--profile", "local-only", "-o", self.work / "by-hand.age",
                            "--json")
        summary = json.loads(out.stdout)
        self.assertGreaterEqual(summary["redactions"], 2)
        opened = self.work / "by-hand"
        subprocess.run([self.valise, "open", self.work / "by-hand.age", "-i", self.identity,
                        "-d", opened], check=True, capture_output=True, timeout=60)
        self.assertNotIn(SECRET, "".join(p.read_text() for p in opened.rglob("*.log")))


class SiteControl(EndToEnd):
    def test_forbidden_and_unknown_profiles_are_refused_and_reported(self):
        agent = self.site().start()
        forbidden = self.wait_request(self.ask("local-only"), agent=agent)
        self.assertEqual(forbidden["state"], "failed")
        self.assertIn("not allowed for remote requests", forbidden["error"])
        unknown = self.wait_request(self.ask("etc-shadow"), agent=agent)
        self.assertEqual(unknown["state"], "failed")
        self.assertIn("unknown profile", unknown["error"])
        self.assertEqual(self.server.bundles(self.ref), [])

    def test_a_recipient_the_site_did_not_pin_is_refused(self):
        agent = self.site().start()
        other = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
        r = self.wait_request(self.ask(recipients=[other]), agent=agent)
        self.assertEqual(r["state"], "failed")
        self.assertIn("not pinned", r["error"])

    def test_operator_approval_then_denial(self):
        agent = self.site(profile_extra='approval = "operator"').start()
        first = self.ask()
        self.wait_request(first, states=("awaiting_approval",), agent=agent)
        listed = json.loads(agent.command("jobs", "--json").stdout)
        self.assertEqual([j["state"] for j in listed if j["id"] == first], ["awaiting_approval"])
        time.sleep(1)
        self.assertEqual(self.server.bundles(self.ref), [])  # nothing before the operator says so
        agent.command("approve", first)
        self.assertEqual(self.wait_request(first, agent=agent)["state"], "done")

        second = self.ask()
        self.wait_request(second, states=("awaiting_approval",), agent=agent)
        agent.command("deny", second, "--reason", "not during the audit")
        r = self.wait_request(second, agent=agent)
        self.assertEqual(r["state"], "failed")
        self.assertIn("not during the audit", r["error"])
        again = agent.command("approve", second, check=False)
        self.assertNotEqual(again.returncode, 0)
        self.assertIn("not awaiting approval", again.stderr)

    def test_a_revoked_agent_is_refused_and_stops(self):
        agent = self.site().start()
        self.run_valise("agent", "revoke", self.agent_id)
        self.assertEqual(agent.wait_exit(30), 78, agent.log())
        self.assertIn("revoked", agent.log())

    def test_the_agent_refuses_a_server_with_the_wrong_certificate(self):
        other = ServerProcess(self.work / "impostor")
        other.start()
        try:
            (self.work / "a2").mkdir()
            agent = AgentProcess(self.work / "a2", other.url, "")
            # The impostor's token, but our server's CA: the TLS check must fail.
            result = agent.enroll(other.create_enroll_token(), self.server.ca, check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("certificate", result.stderr)
            self.assertFalse((agent.state / "identity.json").exists())
            # A fingerprint that is not the impostor's CA: refused before any token is sent.
            wrong = "SHA256:" + "ab" * 32
            result = agent.command("enroll", "--token", other.create_enroll_token(),
                                   "--ca-fingerprint", wrong, check=False)
            self.assertNotEqual(result.returncode, 0)
            self.assertIn("intercepting", result.stderr)
        finally:
            other.stop()


class Renewal(EndToEnd):
    """Certificates so short-lived (10 minutes, valid from an hour ago) that
    less than a third is left from the start: the agent renews at its first
    heartbeat, by itself."""
    server_config = {"tls.agent_certificate_lifetime": '"10m"'}

    def test_the_agent_renews_its_certificate_and_the_old_one_retires(self):
        agent = self.site()
        enrolled = {name: (agent.state / name).read_bytes() for name in ("agent.crt", "agent.key")}
        agent.start()
        deadline = time.monotonic() + 60
        while (agent.state / "agent.crt").read_bytes() == enrolled["agent.crt"]:
            if time.monotonic() > deadline:
                raise AssertionError(f"no renewal in 60 s:\n{agent.log()}")
            time.sleep(0.2)
        self.assertNotEqual((agent.state / "agent.key").read_bytes(), enrolled["agent.key"],
                            "a renewal makes a new key on site")
        self.assertEqual(sorted(p.name for p in agent.state.glob("*.new")), [])
        # Work goes on with the new certificate...
        r = self.wait_request(self.ask(), agent=agent)
        self.assertEqual(r["state"], "done", r)
        self.assertIn("certificate renewed", agent.log())
        shown = self.server.api("GET", f"/api/v1/agents/{self.agent_id}", expect=200)
        renewed = [e for e in self.server.api("GET", "/api/v1/audit?limit=10000",
                                              token=self.server.admin_token, expect=200)
                   if e["action"] == "agent.certificate_renewed"]
        self.assertGreaterEqual(len(renewed), 1, shown)
        # ...and the enrolled one, replaced and since superseded, is refused.
        for name, data in enrolled.items():
            (self.work / f"old-{name}").write_bytes(data)
        old = self.server.tls_context(self.work / "old-agent.crt", self.work / "old-agent.key")
        status, _, _ = self.server.request("GET", "/api/v1/agent/jobs", context=old)
        self.assertEqual(status, 401)


class Proxy(EndToEnd):
    def test_enroll_and_deliver_through_an_authenticating_site_proxy(self):
        proxy = ConnectProxy(mode="auth", user="site", password="pr0xy-Pa55")
        self.addCleanup(proxy.close)
        agent = self.site(settings=f'proxy = "http://site:pr0xy-Pa55@127.0.0.1:{proxy.port}"')
        self.assertEqual(len(proxy.connects), 1, "the enrollment went through the proxy")
        agent.start()
        r = self.wait_request(self.ask(), agent=agent)
        self.assertEqual(r["state"], "done", r)
        self.only_bundle()
        origin = f"127.0.0.1:{self.server.port}"
        self.assertGreaterEqual(len(proxy.connects), 3, "enrollment, long-poll, upload")
        self.assertEqual(set(proxy.targets()), {origin})
        self.assertNotIn("pr0xy-Pa55", agent.log())

    def test_a_proxy_refusing_the_credentials_is_reported_and_retried(self):
        proxy = ConnectProxy(mode="auth", user="site", password="right")
        self.addCleanup(proxy.close)
        agent = self.site()
        agent.config.write_text(f'proxy = "http://site:wrong-Pa55@127.0.0.1:{proxy.port}"\n'
                                + agent.config.read_text())
        agent.start()
        deadline = time.monotonic() + 30
        while "407" not in agent.log() or len(proxy.connects) < 2:
            if time.monotonic() > deadline or agent.process.poll() is not None:
                raise AssertionError(f"no retried 407 in the agent's log:\n{agent.log()}")
            time.sleep(0.2)
        self.assertIsNone(agent.process.poll(), "a proxy refusal is not a reason to stop")
        self.assertNotIn("wrong-Pa55", agent.log())


class Faults(EndToEnd):
    big_random = 24 << 20

    def start_through_relay(self, rate=4 << 20):
        self.relay = Relay(self.server.port, rate=rate)
        return self.site(via=self.relay.port).start()

    def wait_upload_started(self, agent, at_least=4 << 20, timeout=60):
        deadline = time.monotonic() + timeout
        while self.relay.up_bytes < at_least:
            if time.monotonic() > deadline:
                raise AssertionError(f"no upload traffic:\n{agent.log()}")
            time.sleep(0.05)

    def check_one_good_bundle(self, r):
        self.assertEqual(r["state"], "done", r)
        bundle = self.only_bundle()
        out, manifest = self.open_bundle(bundle["id"], "-i", self.identity)
        dump = self.work / "var-log" / "app" / "dump.log"
        stored = out / "files" / str(dump).lstrip("/")
        self.assertEqual(stored.read_bytes(), dump.read_bytes())

    def test_connection_cut_mid_upload(self):
        agent = self.start_through_relay()
        request_id = self.ask()
        self.wait_upload_started(agent)
        self.relay.cut_all()
        self.relay.rate = None
        self.check_one_good_bundle(self.wait_request(request_id, timeout=120, agent=agent))
        self.assertIn("upload", agent.log())

    def test_agent_killed_mid_upload_then_restarted(self):
        agent = self.start_through_relay()
        request_id = self.ask()
        self.wait_upload_started(agent)
        agent.kill()
        self.relay.rate = None
        agent.start()
        self.check_one_good_bundle(self.wait_request(request_id, timeout=120, agent=agent))
        self.assertIn("resumed at", agent.log())

    def test_server_restarted_mid_upload(self):
        agent = self.start_through_relay()
        request_id = self.ask()
        self.wait_upload_started(agent)
        self.relay.rate = None
        self.server.restart()
        self.check_one_good_bundle(self.wait_request(request_id, timeout=40, agent=agent))


if __name__ == "__main__":
    unittest.main()
