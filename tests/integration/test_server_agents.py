"""Agents against the real valise-server on loopback, over real mutual TLS:
enrollment with one-time tokens and CSRs made by the openssl CLI, certificate
checks per request (unknown, foreign, revoked, renewed, resumed sessions),
the job long-poll, request state reports, uploads bound to their request,
roles, the audit trail, and the technician's `valise enroll-token | agent |
request` commands through the real binary. Python 3 standard library and the
openssl command.

ctest passes VALISE_SERVER_BIN (and VALISE_BIN for the CLI class); a missing
binary fails the tests, never skips them."""
import base64
import calendar
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
from server_process import SharedServerTest  # noqa: E402

AGE_PREFIX = b"age-encryption.org/v1\n-> X25519 dGVzdA\n"
RECIPIENT = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
# Errors a client sees when the server refuses its certificate during or
# just after the TLS 1.3 handshake.
REFUSED_TLS = (ssl.SSLError, ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)


def openssl(*args, cwd=None):
    tool = shutil.which("openssl")
    if not tool:
        raise RuntimeError("openssl not found: apt-get install openssl")
    result = subprocess.run([tool, *map(str, args)], capture_output=True, timeout=60, cwd=cwd)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(map(str, args))}: {result.stderr.decode()}")
    return result.stdout.decode()


def new_key(path, kind="p256"):
    if kind == "p256":
        openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", path)
    elif kind == "p384":
        openssl("ecparam", "-name", "secp384r1", "-genkey", "-noout", "-out", path)
    else:
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path)
    return path


def new_csr(key, path, subject="/CN=db1.example.com/O=Attacker"):
    openssl("req", "-new", "-key", key, "-subj", subject, "-out", path)
    return Path(path).read_text()


def metadata(**values):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def age_like(size, seed=b"x"):
    body = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return (AGE_PREFIX + body)[:size]


class Agent:
    """An enrolled agent as the server sees it: a P-256 key made here, the
    certificate the server signed, HTTPS requests presenting it."""

    def __init__(self, server, workdir, name="agent"):
        self.server = server
        self.dir = Path(workdir) / name
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = new_key(self.dir / "key.pem")
        self.cert = self.dir / "cert.pem"
        self.id = None

    def enroll(self, token, csr=None, **facts):
        body = {"csr": csr if csr is not None else new_csr(self.key, self.dir / "csr.pem"),
                "hostname": "db1", "os": "Debian GNU/Linux 12", "kernel": "6.1.0-18-amd64",
                "version": "0.1.0", **facts}
        status, _, data = self.server.request("POST", "/api/v1/enroll", body, token=token)
        answer = json.loads(data) if data else None
        if status == 201:
            self.cert.write_text(answer["certificate"])
            self.id = answer["agent_id"]
        return status, answer

    def enrolled(self, token=None):
        status, answer = self.enroll(token or self.server.create_enroll_token())
        assert status == 201, answer
        return self

    def context(self):
        return self.server.tls_context(self.cert, self.key)

    def request(self, method, path, body=None, headers=None, timeout=30):
        status, h, data = self.server.request(method, path, body, headers=headers,
                                              timeout=timeout, context=self.context())
        return status, h, (json.loads(data) if data and h.get("content-type", "").startswith(
            "application/json") else data)

    def jobs(self, wait=0, timeout=90):
        return self.request("GET", f"/api/v1/agent/jobs?wait={wait}", timeout=timeout)

    def status(self, request_id, state, **extra):
        return self.request("POST", f"/api/v1/agent/requests/{request_id}/status",
                            {"state": state, **extra})

    def tus(self, method, path, headers=None, body=None):
        return self.request(method, path, body, {"Tus-Resumable": "1.0.0", **(headers or {})})

    def upload(self, request_id, data, **meta):
        """Creates and completes an upload for the request; returns (create status,
        headers, body) of the creation if it failed, else the PATCH's."""
        status, headers, body = self.tus(
            "POST", "/api/v1/uploads",
            {"Upload-Length": str(len(data)),
             "Upload-Metadata": metadata(filename="diag.tar.zst.age", request=request_id,
                                         **meta)})
        if status != 201:
            return status, headers, body
        return self.tus("PATCH", headers["location"],
                        {"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
                        data)


class AgentTest(SharedServerTest):
    """One server per class; each test its own ticket."""
    workdir_prefix = "valise-agents-"

    def setUp(self):
        self.work = Path(tempfile.mkdtemp(prefix="agent-", dir=self.tmp.name))
        self.ref = f"{self._testMethodName[5:40]}-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(self.ref)

    def agent(self, name="agent"):
        return Agent(self.server, self.work, name).enrolled()

    def ask(self, agent, ref=None, expect=201, **fields):
        body = {"agent": agent.id if isinstance(agent, Agent) else agent, "profile": "base",
                **fields}
        return self.server.api("POST", f"/api/v1/tickets/{ref or self.ref}/requests", body,
                               expect=expect)

    def audit(self):
        return self.server.api("GET", "/api/v1/audit?limit=10000", token=self.server.admin_token,
                               expect=200)


class Enrollment(AgentTest):
    def test_a_token_enrolls_one_agent_once(self):
        token = self.server.create_enroll_token()
        self.assertRegex(token, r"^vse_[a-z2-7]{52}$")
        agent = Agent(self.server, self.work)
        status, answer = agent.enroll(token)
        self.assertEqual(status, 201, answer)
        self.assertRegex(answer["agent_id"], r"^agt_[a-z2-7]+$")
        self.assertEqual(answer["ca"], self.server.ca.read_text())
        self.assertIn("BEGIN CERTIFICATE", answer["certificate"])
        expires = calendar.timegm(time.strptime(answer["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(expires - time.time(), 30 * 86400, delta=120)
        # The server's choice, whatever the CSR asked: CN = agent id, client use only.
        text = openssl("x509", "-in", agent.cert, "-noout", "-subject", "-ext",
                       "extendedKeyUsage,keyUsage,basicConstraints")
        self.assertIn(f"CN = {agent.id}", text)
        self.assertNotIn("Attacker", text)
        self.assertIn("TLS Web Client Authentication", text)
        self.assertNotIn("Server Authentication", text)
        self.assertIn("CA:FALSE", text)
        again = Agent(self.server, self.work, "second")
        status, answer = again.enroll(token)
        self.assertEqual(status, 401, answer)
        self.assertEqual(answer["error"], "unauthorized")
        shown = self.server.api("GET", f"/api/v1/agents/{agent.id}", expect=200)
        self.assertEqual((shown["hostname"], shown["os"], shown["kernel"], shown["version"],
                          shown["revoked"], shown["profiles"]),
                         ("db1", "Debian GNU/Linux 12", "6.1.0-18-amd64", "0.1.0", False, []))

    def test_an_expired_token_is_refused(self):
        token = self.server.command("enroll-token", "create", "--data", str(self.server.data),
                                    "--expires-in", "1").strip()
        self.assertRegex(token, r"^vse_[a-z2-7]+$")
        api_token = self.server.create_enroll_token(expires_in_s=1)
        time.sleep(2.2)
        for t in (token, api_token):
            status, answer = Agent(self.server, self.work, t[-6:]).enroll(t)
            self.assertEqual(status, 401, answer)
        for bad in (0, 7 * 86400 + 1):
            self.server.api("POST", "/api/v1/enroll-tokens", {"expires_in_s": bad}, expect=400)
        status, _, _ = self.server.request("POST", "/api/v1/enroll", {"csr": "x"})
        self.assertEqual(status, 401)

    def test_bad_csrs_are_refused_and_leave_the_token_usable(self):
        token = self.server.create_enroll_token()
        agent = Agent(self.server, self.work)
        cases = {
            "not a csr": "hello",
            "rsa": new_csr(new_key(self.work / "rsa.pem", "rsa"), self.work / "rsa.csr"),
            "p384": new_csr(new_key(self.work / "p384.pem", "p384"), self.work / "p384.csr"),
            "certificate": self.server.ca.read_text(),
        }
        for name, csr in cases.items():
            with self.subTest(name):
                status, answer = agent.enroll(token, csr=csr)
                self.assertEqual(status, 400, answer)
                self.assertEqual(answer["error"], "bad_csr")
        status, answer = agent.enroll(token, csr="")
        self.assertEqual((status, answer["error"]), (400, "bad_csr"))
        status, answer = agent.enroll(token, hostname="")
        self.assertEqual(status, 400, answer)
        status, answer = agent.enroll(token)
        self.assertEqual(status, 201, answer)

    def test_a_tampered_csr_does_not_verify(self):
        agent = Agent(self.server, self.work)
        csr_path = self.work / "t.csr"
        new_csr(agent.key, csr_path, "/CN=aaaaaaaa")
        der = bytearray(base64.b64decode("".join(
            line for line in csr_path.read_text().splitlines() if "-----" not in line)))
        at = bytes(der).find(b"aaaaaaaa")
        der[at] = ord("b")
        pem = ("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode() +
               "-----END CERTIFICATE REQUEST-----\n")
        status, answer = agent.enroll(self.server.create_enroll_token(), csr=pem)
        self.assertEqual(status, 400, answer)
        self.assertIn("signature", answer["message"])

    def test_the_ca_is_public_and_its_fingerprint_printed(self):
        status, headers, body = self.server.request("GET", "/api/v1/ca")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "application/x-pem-file")
        self.assertEqual(body.decode(), self.server.ca.read_text())
        want = hashlib.sha256(ssl.PEM_cert_to_DER_cert(body.decode())).hexdigest()
        out = self.server.command("ca-fingerprint", "--data", str(self.server.data)).strip()
        self.assertEqual(out, f"SHA256:{want}")
        data = self.work / "fresh"
        init = self.server.command("init", "--data", str(data), "--listen", "127.0.0.1:1")
        printed = re.search(r"SHA256:([0-9a-f]{64})", init).group(1)
        fresh = (data / "ca.pem").read_text()
        self.assertEqual(printed, hashlib.sha256(ssl.PEM_cert_to_DER_cert(fresh)).hexdigest())
        self.assertTrue(init.strip().splitlines()[-1].startswith("vsa_"))


class MutualTls(AgentTest):
    def test_agent_routes_need_a_certificate(self):
        for method, path in (("GET", "/api/v1/agent/jobs"), ("POST", "/api/v1/agent/heartbeat"),
                             ("POST", "/api/v1/agent/certificate"),
                             ("POST", "/api/v1/agent/requests/req_x/status")):
            status, _, body = self.server.request(method, path, {} if method == "POST" else None)
            self.assertEqual(status, 401, (path, body))
            self.assertEqual(json.loads(body)["error"], "agent_certificate_required")
        # Clients without certificates see no change elsewhere.
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)
        self.server.api("GET", f"/api/v1/tickets/{self.ref}", expect=200)

    def test_a_certificate_from_another_ca_is_refused(self):
        d = self.work
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-keyout", d / "evil-ca.key", "-out", d / "evil-ca.pem",
                "-subj", "/CN=valise CA localhost", "-days", "2")
        key = new_key(d / "evil.key")
        new_csr(key, d / "evil.csr", "/CN=agt_aaaaaaaaaaaaaaaa")
        (d / "ext.cnf").write_text("extendedKeyUsage=clientAuth\n")
        openssl("x509", "-req", "-in", d / "evil.csr", "-CA", d / "evil-ca.pem",
                "-CAkey", d / "evil-ca.key", "-CAcreateserial", "-out", d / "evil.pem",
                "-days", "1", "-extfile", d / "ext.cnf")
        context = self.server.tls_context(d / "evil.pem", key)
        try:
            status, _, _ = self.server.request("GET", "/api/v1/agent/jobs", context=context)
        except REFUSED_TLS:
            return
        self.assertEqual(status, 401)

    def test_revocation_is_immediate_even_for_a_waiting_long_poll(self):
        agent = self.agent()
        self.assertEqual(agent.jobs()[0], 200)
        answers = {}

        def poll():
            started = time.monotonic()
            answers["poll"] = agent.jobs(wait=40)
            answers["took"] = time.monotonic() - started
        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(1.0)
        revoked_at = time.monotonic()
        shown = self.server.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        self.assertTrue(shown["revoked"])
        waiter.join(20)
        self.assertFalse(waiter.is_alive(), "the long-poll was not woken by the revocation")
        status, _, body = answers["poll"]
        self.assertEqual(status, 403, body)
        self.assertEqual(body["error"], "certificate_revoked")
        self.assertLess(time.monotonic() - revoked_at, 5)
        for method, path, body in (("GET", "/api/v1/agent/jobs", None),
                                   ("POST", "/api/v1/agent/heartbeat", {"hostname": "x"})):
            status, _, answer = agent.request(method, path, body)
            self.assertEqual(status, 403, answer)
        refused = [r for r in self.audit() if r["action"] == "agent.refused"]
        self.assertTrue(any(r["detail"].get("agent") == agent.id for r in refused), refused)
        # Revoking again changes nothing; an unknown agent is 404.
        self.server.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        self.server.api("POST", "/api/v1/agents/agt_nobody/revoke", expect=404)

    def test_a_resumed_tls_session_does_not_outlive_revocation(self):
        agent = self.agent()
        context = agent.context()

        def raw_get(session=None):
            sock = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
            tls = context.wrap_socket(sock, server_hostname="localhost", session=session)
            tls.sendall(b"GET /api/v1/agent/jobs HTTP/1.1\r\nHost: localhost\r\n"
                        b"Connection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(65536):
                data += chunk
            reused, session = tls.session_reused, tls.session
            tls.close()
            return int(data.split(b" ", 2)[1]), reused, session

        status, _, session = raw_get()
        self.assertEqual(status, 200)
        self.server.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        status, reused, _ = raw_get(session)
        self.assertTrue(reused, "the session was not resumed: this test would prove nothing")
        self.assertEqual(status, 403)

    def test_renewal_swaps_the_certificate_the_old_retires_once_the_new_is_used(self):
        agent = self.agent()
        old_cert = agent.dir / "old.pem"
        shutil.copy(agent.cert, old_cert)
        new_key_path = new_key(agent.dir / "new-key.pem")
        status, _, answer = agent.request("POST", "/api/v1/agent/certificate",
                                          {"csr": new_csr(new_key_path, agent.dir / "n.csr")})
        self.assertEqual(status, 200, answer)
        self.assertIn("BEGIN CERTIFICATE", answer["certificate"])
        self.assertIn("expires_at", answer)
        status, _, answer_bad = agent.request("POST", "/api/v1/agent/certificate", {"csr": "x"})
        self.assertEqual(status, 400, answer_bad)
        # The old certificate still works until the new one is presented.
        self.assertEqual(agent.jobs()[0], 200)
        agent.cert.write_text(answer["certificate"])
        agent.key = new_key_path
        self.assertEqual(agent.jobs()[0], 200)
        old = self.server.tls_context(old_cert, agent.dir / "key.pem")
        status, _, _ = self.server.request("GET", "/api/v1/agent/jobs", context=old)
        self.assertEqual(status, 401)
        shown = self.server.api("GET", f"/api/v1/agents/{agent.id}", expect=200)
        self.assertEqual(shown["cert_expires_at"], answer["expires_at"])
        actions = [r["action"] for r in self.audit()]
        self.assertIn("agent.certificate_renewed", actions)

    def test_heartbeat_reports_the_host_and_its_remote_profiles(self):
        agent = self.agent()
        status, _, answer = agent.request(
            "POST", "/api/v1/agent/heartbeat",
            {"hostname": "db1-renamed", "os": "Debian 13", "kernel": "6.12", "version": "0.2.0",
             "profiles": ["base", "web-logs"]})
        self.assertEqual(status, 200, answer)
        self.assertEqual(set(answer), {"cert_expires_at", "server_time"})
        shown = self.server.api("GET", f"/api/v1/agents/{agent.id}", expect=200)
        self.assertEqual((shown["hostname"], shown["version"], shown["profiles"]),
                         ("db1-renamed", "0.2.0", ["base", "web-logs"]))
        listed = {a["id"]: a for a in self.server.api("GET", "/api/v1/agents", expect=200)}
        self.assertEqual(set(listed[agent.id]), {
            "id", "hostname", "os", "kernel", "version", "profiles", "max_upload_bytes",
            "last_seen", "enrolled_at", "cert_expires_at", "revoked", "revoked_at"})
        for bad in ({"profiles": ["../etc"]}, {"profiles": "base"}, {"hostname": "x" * 300}):
            status, _, answer = agent.request("POST", "/api/v1/agent/heartbeat", bad)
            self.assertEqual(status, 400, (bad, answer))


class LongPoll(AgentTest):
    # Shorter than the long-polls below: a wait must not count as a silent client.
    config_edits = {"server.request_timeout": '"3s"'}

    def test_a_queued_job_returns_at_once(self):
        agent = self.agent()
        r = self.ask(agent, since="2026-01-01T00:00:00Z", recipients=[RECIPIENT])
        started = time.monotonic()
        status, _, answer = agent.jobs(wait=50)
        self.assertLess(time.monotonic() - started, 2)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["jobs"], [{"id": r["id"], "ticket": self.ref, "profile": "base",
                                           "since": "2026-01-01T00:00:00Z", "until": None,
                                           "recipients": [RECIPIENT]}])

    def test_without_jobs_it_waits_then_answers_empty(self):
        agent = self.agent()
        started = time.monotonic()
        status, _, answer = agent.jobs(wait=5)
        took = time.monotonic() - started
        self.assertEqual((status, answer), (200, {"jobs": []}))
        self.assertGreaterEqual(took, 4.8)
        self.assertLess(took, 8)
        for bad in ("61", "-1", "ten", "5s"):
            status, _, _ = agent.request("GET", f"/api/v1/agent/jobs?wait={bad}")
            self.assertEqual(status, 400, bad)

    def test_a_new_request_wakes_the_waiting_agent(self):
        agent = self.agent()
        other = self.agent("other")
        answers = {}

        def poll(who, key):
            answers[key] = who.jobs(wait=30)
            answers[key + "_at"] = time.monotonic()
        waiters = [threading.Thread(target=poll, args=(agent, "mine")),
                   threading.Thread(target=poll, args=(other, "other"))]
        for w in waiters:
            w.start()
        time.sleep(1.5)
        created_at = time.monotonic()
        r = self.ask(agent)
        waiters[0].join(10)
        self.assertFalse(waiters[0].is_alive())
        self.assertLess(answers["mine_at"] - created_at, 1.5)
        status, _, answer = answers["mine"]
        self.assertEqual(status, 200)
        self.assertEqual([j["id"] for j in answer["jobs"]], [r["id"]])
        # The other agent was not woken for someone else's job; revoke ends its wait.
        self.assertTrue(waiters[1].is_alive())
        self.server.api("POST", f"/api/v1/agents/{other.id}/revoke", expect=200)
        waiters[1].join(10)
        self.assertEqual(answers["other"][0], 403)

    def test_a_long_poll_outlasts_the_request_timeout_and_keeps_the_connection(self):
        agent = self.agent()
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                           context=agent.context(), timeout=30)
        try:
            started = time.monotonic()
            conn.request("GET", "/api/v1/agent/jobs?wait=6")
            first = conn.getresponse()
            self.assertEqual((first.status, json.loads(first.read())), (200, {"jobs": []}))
            self.assertGreaterEqual(time.monotonic() - started, 5.8)
            conn.request("GET", "/api/v1/agent/jobs")
            second = conn.getresponse()
            self.assertEqual(second.status, 200)
            second.read()
        finally:
            conn.close()


class Requests(AgentTest):
    def test_creation_checks_ticket_agent_profile_and_times(self):
        agent = self.agent()
        r = self.ask(agent, since="2026-11-22T15:03:07+01:00", until="2026-11-23T00:00:00Z",
                     recipients=[RECIPIENT])
        self.assertRegex(r["id"], r"^req_[a-z2-7]+$")
        self.assertEqual((r["state"], r["since"], r["until"], r["bundle_id"], r["error"]),
                         ("queued", "2026-11-22T14:03:07Z", "2026-11-23T00:00:00Z", None, None))
        self.assertEqual(set(r), {"id", "ticket", "agent", "profile", "since", "until",
                                  "recipients", "state", "bundle_id", "error", "created_at",
                                  "updated_at"})
        self.assertEqual(self.server.api("GET", f"/api/v1/requests/{r['id']}", expect=200), r)
        listed = self.server.api("GET", f"/api/v1/tickets/{self.ref}/requests", expect=200)
        self.assertEqual([x["id"] for x in listed], [r["id"]])
        by_agent = self.server.api("GET", f"/api/v1/requests?agent={agent.id}&state=queued",
                                   expect=200)
        self.assertEqual([x["id"] for x in by_agent], [r["id"]])
        for bad in ({"profile": "../../etc/shadow"}, {"profile": "p" * 65},
                    {"profile": "rm -rf /"}, {"since": "yesterday"},
                    {"since": "2026-11-23T00:00:00Z", "until": "2026-11-22T00:00:00Z"},
                    {"recipients": ["ssh-ed25519 AAAA"]}, {"recipients": RECIPIENT}):
            with self.subTest(bad):
                self.ask(agent, expect=400, **bad)
        self.ask("", expect=400)
        self.ask("agt_nobody", expect=404)
        self.server.api("POST", "/api/v1/tickets/T-none/requests",
                        {"agent": agent.id, "profile": "base"}, expect=404)
        self.server.api("GET", "/api/v1/requests/req_none", expect=404)
        self.server.api("GET", "/api/v1/tickets/T-none/requests", expect=404)
        revoked = self.agent("revoked")
        self.server.api("POST", f"/api/v1/agents/{revoked.id}/revoke", expect=200)
        self.assertEqual(self.ask(revoked, expect=409)["error"], "agent_revoked")
        self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", expect=200)
        self.assertEqual(self.ask(agent, expect=409)["error"], "ticket_resolved")
        # The request open at resolution failed with it.
        self.assertEqual(self.server.api("GET", f"/api/v1/requests/{r['id']}", expect=200)["error"],
                         "ticket resolved")

    def test_states_follow_the_documented_transitions(self):
        agent = self.agent()
        r = self.ask(agent)
        status, _, answer = agent.status(r["id"], "uploading")
        self.assertEqual(status, 409, answer)
        self.assertEqual((answer["error"], answer["state"]), ("bad_transition", "queued"))
        self.assertEqual(agent.status(r["id"], "running")[0], 400)
        for state in ("awaiting_approval", "awaiting_approval", "collecting", "collecting",
                      "uploading"):
            status, _, answer = agent.status(r["id"], state)
            self.assertEqual((status, answer["state"]), (200, state), answer)
        status, _, answer = agent.status(r["id"], "done")
        self.assertEqual(status, 400, answer)
        status, _, answer = agent.status(r["id"], "done", bundle_id="bdl_aaaaaaaaaaaaaaaa")
        self.assertEqual((status, answer["error"]), (409, "bundle_mismatch"), answer)
        status, _, _ = agent.upload(r["id"], age_like(1000))
        self.assertEqual(status, 204)
        bundle = self.server.api("GET", f"/api/v1/requests/{r['id']}", expect=200)["bundle_id"]
        status, _, answer = agent.status(r["id"], "done", bundle_id=bundle)
        self.assertEqual((status, answer["state"], answer["bundle_id"]), (200, "done", bundle))
        for state in ("done", "failed", "collecting"):
            status, _, answer = agent.status(r["id"], state, bundle_id=bundle)
            self.assertEqual((status, answer["error"], answer["state"]),
                             (409, "request_finished", "done"), answer)
        actions = [(x["action"], x["detail"].get("to"))
                   for x in self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit",
                                            expect=200)]
        self.assertIn(("request.created", None), actions)
        self.assertEqual([to for a, to in actions if a == "request.state_changed"],
                         ["awaiting_approval", "collecting", "uploading", "done"])

    def test_a_failure_keeps_its_reason_clipped_and_only_the_named_agent_reports(self):
        agent, other = self.agent(), self.agent("other")
        r = self.ask(agent)
        status, _, answer = other.status(r["id"], "failed", error="not mine")
        self.assertEqual(status, 404, answer)
        status, _, answer = agent.status(r["id"], "failed", error="é" * 2000)
        self.assertEqual((status, answer["state"]), (200, "failed"))
        self.assertLessEqual(len(answer["error"].encode()), 1024)
        self.assertTrue(answer["error"].startswith("éé"))
        self.assertEqual(agent.status(r["id"], "collecting")[0], 409)


class AgentUploads(AgentTest):
    def test_an_upload_answers_its_request_once(self):
        agent = self.agent()
        r = self.ask(agent)
        agent.status(r["id"], "collecting")
        agent.status(r["id"], "uploading")
        data = age_like(50_000)
        status, headers, _ = agent.upload(r["id"], data)
        self.assertEqual(status, 204)
        bundle_id = headers["valise-bundle-id"]
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())
        bundle = self.server.api("GET", f"/api/v1/bundles/{bundle_id}", expect=200)
        self.assertEqual((bundle["ticket"], bundle["source"]), (self.ref, f"agent:{agent.id}"))
        self.assertEqual(self.server.api("GET", f"/api/v1/requests/{r['id']}",
                                         expect=200)["bundle_id"], bundle_id)
        # An agent that lost its state learns the bundle instead of uploading again.
        status, _, answer = agent.upload(r["id"], data)
        self.assertEqual(status, 409)
        self.assertEqual((answer["error"], answer["bundle_id"]), ("request_has_bundle", bundle_id))
        self.assertEqual(agent.status(r["id"], "done", bundle_id=bundle_id)[0], 200)

    def test_uploads_are_bound_to_the_agents_own_request_and_ticket(self):
        agent, other = self.agent(), self.agent("other")
        r = self.ask(agent)
        status, _, answer = other.upload(r["id"], age_like(100))
        self.assertEqual(status, 403, answer)
        status, _, _ = agent.upload("req_nonexistent", age_like(100))
        self.assertEqual(status, 403)
        status, _, answer = agent.tus("POST", "/api/v1/uploads",
                                      {"Upload-Length": "100",
                                       "Upload-Metadata": metadata(filename="x.age")})
        self.assertEqual(status, 400, answer)
        elsewhere = f"{self.ref}-other"
        self.server.create_ticket(elsewhere)
        status, _, _ = agent.upload(r["id"], age_like(100), ticket=elsewhere)
        self.assertEqual(status, 403)
        # Resume only by the agent that started it.
        status, headers, _ = agent.tus("POST", "/api/v1/uploads",
                                       {"Upload-Length": "100",
                                        "Upload-Metadata": metadata(request=r["id"])})
        self.assertEqual(status, 201)
        location = headers["location"]
        self.assertEqual(other.tus("HEAD", location)[0], 404)
        self.assertEqual(other.tus("PATCH", location,
                                   {"Content-Type": "application/offset+octet-stream",
                                    "Upload-Offset": "0"}, age_like(100))[0], 404)
        status, headers, _ = agent.tus("HEAD", location)
        self.assertEqual((status, headers["upload-offset"]), (200, "0"))

    def test_resolution_fails_open_requests_and_the_agent_learns_it(self):
        agent = self.agent()
        r = self.ask(agent)
        agent.status(r["id"], "collecting")
        status, headers, _ = agent.tus("POST", "/api/v1/uploads",
                                       {"Upload-Length": "1000",
                                        "Upload-Metadata": metadata(request=r["id"])})
        self.assertEqual(status, 201)
        resolved = self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", expect=200)
        self.assertEqual(set(resolved), {"ticket", "purged", "cancelled_uploads"})
        self.assertEqual(len(resolved["cancelled_uploads"]), 1)
        shown = self.server.api("GET", f"/api/v1/requests/{r['id']}", expect=200)
        self.assertEqual((shown["state"], shown["error"]), ("failed", "ticket resolved"))
        status, _, answer = agent.status(r["id"], "uploading")
        self.assertEqual((status, answer["state"]), (409, "failed"), answer)
        status, _, answer = agent.upload(r["id"], age_like(100))
        self.assertEqual(status, 409, answer)
        self.assertEqual(agent.tus("HEAD", headers["location"])[0], 404)


class AgentRoles(AgentTest):
    def test_tokens_are_not_certificates_and_certificates_not_tokens(self):
        agent = self.agent()
        r = self.ask(agent)
        for method, path in (("GET", "/api/v1/agent/jobs"), ("POST", "/api/v1/agent/heartbeat"),
                             ("POST", "/api/v1/agent/certificate"),
                             ("POST", f"/api/v1/agent/requests/{r['id']}/status")):
            for token in (self.server.technician_token, self.server.admin_token):
                status, _, _ = self.server.request(method, path, {}, token=token,
                                                   context=agent.context())
                self.assertEqual(status, 401, (path, token[:4]))
        for method, path in (("GET", "/api/v1/agents"), ("GET", f"/api/v1/agents/{agent.id}"),
                             ("POST", f"/api/v1/agents/{agent.id}/revoke"),
                             ("GET", f"/api/v1/requests/{r['id']}"), ("GET", "/api/v1/requests"),
                             ("POST", f"/api/v1/tickets/{self.ref}/requests"),
                             ("POST", "/api/v1/enroll-tokens"), ("GET", "/api/v1/tickets"),
                             ("GET", f"/api/v1/tickets/{self.ref}/audit")):
            status, _, _ = agent.request(method, path, {} if method == "POST" else None)
            self.assertIn(status, (401, 403), path)
        link = self.server.create_link(self.ref)["token"]
        for method, path in (("GET", f"/api/v1/requests/{r['id']}"),
                             ("POST", f"/api/v1/tickets/{self.ref}/requests"),
                             ("GET", f"/api/v1/tickets/{self.ref}/requests"),
                             ("POST", "/api/v1/enroll-tokens"), ("GET", "/api/v1/agents")):
            status, _, _ = self.server.request(method, path, {"agent": agent.id, "profile": "b"},
                                               token=link)
            self.assertEqual(status, 403, path)
        # An API token is not an enrollment token.
        status, _ = Agent(self.server, self.work, "t").enroll(self.server.technician_token)
        self.assertEqual(status, 401)
        self.server.api("POST", "/api/v1/enroll-tokens", {}, token=self.server.admin_token,
                        expect=201)
        self.assertEqual(self.server.api("GET", f"/api/v1/agents/{agent.id}", expect=200)["id"],
                         agent.id)

    def test_the_audit_names_every_step_and_no_secret(self):
        token = self.server.create_enroll_token()
        agent = Agent(self.server, self.work).enrolled(token)
        csr = (agent.dir / "csr.pem").read_text()
        r = self.ask(agent)
        agent.status(r["id"], "collecting")
        agent.request("POST", "/api/v1/agent/certificate",
                      {"csr": new_csr(new_key(agent.dir / "k2.pem"), agent.dir / "c2.csr")})
        self.server.api("POST", f"/api/v1/agents/{agent.id}/revoke", expect=200)
        agent.jobs()
        Agent(self.server, self.work, "late").enroll(token)
        records = self.audit()
        actions = {x["action"] for x in records}
        for action in ("enroll_token.created", "agent.enrolled", "agent.certificate_renewed",
                       "agent.revoked", "agent.refused", "request.created",
                       "request.state_changed", "auth.refused"):
            self.assertIn(action, actions)
        text = json.dumps(records)
        for secret in (token, self.server.technician_token, self.server.admin_token,
                       "vse_", "BEGIN CERTIFICATE REQUEST", csr.splitlines()[1]):
            self.assertNotIn(secret, text)
        failed = [x for x in records if x["action"] == "request.state_changed"
                  and x["detail"]["request"] == r["id"] and x["detail"]["to"] == "failed"]
        self.assertEqual(failed[0]["detail"]["error"], "agent revoked")
        verify = self.server.command("audit", "verify", "--data", str(self.server.data))
        self.assertIn("intact", verify)


class AgentPaging(AgentTest):
    """GET /api/v1/agents a page at a time: `limit` (default 100, 1 to 1000)
    and `after` (the last agent of the previous page), the next page named
    in a Link header (rel="next") while there is one; `valise agent list`
    follows every page."""

    MANY = 105  # more than the default page

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        work = Path(tempfile.mkdtemp(prefix="paging-", dir=cls.tmp.name))
        cls.enrolled = [Agent(cls.server, work, f"a{i}").enrolled().id for i in range(cls.MANY)]

    def page(self, query):
        status, headers, data = self.server.request("GET", f"/api/v1/agents{query}",
                                                    token=self.server.technician_token)
        self.assertEqual(status, 200, data)
        found = re.fullmatch(r'<(/api/v1/agents\?[^>]*)>; rel="next"', headers.get("link", ""))
        return json.loads(data), found.group(1) if found else None

    def test_pages_follow_each_other_in_enrolment_order(self):
        seen, query, pages = [], "?limit=40", 0
        while True:
            agents, following = self.page(query)
            self.assertLessEqual(len(agents), 40)
            seen += [a["id"] for a in agents]
            pages += 1
            if following is None:
                break
            self.assertIn("limit=40", following)
            query = following[len("/api/v1/agents"):]
        self.assertEqual(len(seen), len(set(seen)))
        self.assertEqual(pages, -(-len(seen) // 40))
        # In the order they enrolled (enrolled_at, then id: a stable key).
        everyone = self.all_agents()
        self.assertEqual(seen, [a["id"] for a in everyone])
        self.assertTrue(set(self.enrolled) <= set(seen))
        keys = [(a["enrolled_at"], a["id"]) for a in everyone]
        self.assertEqual(keys, sorted(keys))

    def all_agents(self):
        out, query = [], "?limit=1000"
        while query is not None:
            agents, following = self.page(query)
            out += agents
            query = following and following[len("/api/v1/agents"):]
        return out

    def test_the_default_page_holds_100_and_says_where_the_rest_is(self):
        agents, following = self.page("")
        self.assertEqual(len(agents), 100)
        self.assertEqual(following, f"/api/v1/agents?limit=100&after={agents[-1]['id']}")
        rest, _ = self.page(following[len("/api/v1/agents"):])
        self.assertNotIn(agents[-1]["id"], [a["id"] for a in rest])
        everything, last = self.page("?limit=1000")
        self.assertIsNone(last)
        self.assertEqual([a["id"] for a in everything], [a["id"] for a in agents + rest][:len(everything)])

    def test_bad_limits_and_unknown_cursors_are_refused(self):
        for query in ("?limit=0", "?limit=1001", "?limit=x", "?after=agt_nobody",
                      "?after=" + "a" * 200):
            status, _, data = self.server.request("GET", f"/api/v1/agents{query}",
                                                  token=self.server.technician_token)
            self.assertEqual(status, 400, (query, data))
            self.assertEqual(json.loads(data)["error"], "bad_request")

    def test_valise_agent_list_follows_every_page(self):
        name = os.environ.get("VALISE_BIN", "")
        valise = shutil.which(name) if name else None
        if not valise:
            raise RuntimeError(f"VALISE_BIN={name!r}: the valise binary is needed (ctest sets it)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
        env.update(HOME=str(self.work), XDG_CONFIG_HOME=str(self.work / "config"),
                   VALISE_TOKEN=self.server.technician_token)
        for json_out in (True, False):
            result = subprocess.run([valise, "agent", "list", *(["--json"] if json_out else []),
                                     "--server", self.server.url, "--ca", self.server.ca],
                                    capture_output=True, timeout=120, stdin=subprocess.DEVNULL,
                                    env=env)
            self.assertEqual(result.returncode, 0, result.stderr.decode())
            out = result.stdout.decode()
            if json_out:
                listed = [a["id"] for a in json.loads(out)]
                self.assertEqual(listed, [a["id"] for a in self.all_agents()])
            else:
                listed = re.findall(r"(?m)^(agt_\S+)\s", out)
            self.assertGreater(len(listed), 100)
            self.assertEqual(len(listed), len(set(listed)))
            self.assertTrue(set(self.enrolled) <= set(listed))


class AgentCli(AgentTest):
    """The technician's commands through the real `valise` binary."""

    @classmethod
    def setUpClass(cls):
        name = os.environ.get("VALISE_BIN", "")
        cls.valise = shutil.which(name) if name else None
        if not cls.valise:
            raise RuntimeError(f"VALISE_BIN={name!r}: the valise binary is needed (ctest sets it)")
        super().setUpClass()

    def run_valise(self, *args):
        env = {k: v for k, v in os.environ.items() if not k.startswith("VALISE")}
        env.update(HOME=str(self.work), XDG_CONFIG_HOME=str(self.work / "config"),
                   VALISE_TOKEN=self.server.technician_token)
        return subprocess.run([self.valise, *map(str, args), "--server", self.server.url,
                               "--ca", self.server.ca], capture_output=True, timeout=120,
                              stdin=subprocess.DEVNULL, env=env)

    def ok(self, *args):
        result = self.run_valise(*args)
        self.assertEqual(result.returncode, 0, result.stderr.decode())
        return result.stdout.decode()

    def one_line_error(self, result, pattern):
        stderr = result.stderr.decode()
        self.assertGreater(result.returncode, 0, stderr)
        lines = stderr.rstrip("\n").split("\n")
        self.assertTrue(1 <= len(lines) <= 2 and lines[0].startswith("valise: "), stderr)
        self.assertRegex(lines[0], pattern)

    def test_enroll_token_and_agents(self):
        token = self.ok("enroll-token", "create", "--expires-in", "10m")
        self.assertRegex(token, r"^vse_[a-z2-7]+\n$")
        agent = Agent(self.server, self.work).enrolled(token.strip())
        listed = json.loads(self.ok("agent", "list", "--json"))
        self.assertIn(agent.id, [a["id"] for a in listed])
        table = self.ok("agent", "list")
        self.assertRegex(table, rf"(?m)^{agent.id}\s+db1\s+Debian GNU/Linux 12\s+0\.1\.0\s")
        self.assertIn("hostname      db1", self.ok("agent", "show", agent.id))
        self.assertEqual(json.loads(self.ok("agent", "show", agent.id, "--json"))["id"], agent.id)
        self.one_line_error(self.run_valise("agent", "show", "agt_nobody"), r"404|no agent")
        self.one_line_error(self.run_valise("enroll-token", "create", "--expires-in", "8d"),
                            r"--expires-in")
        self.assertIn("revoked agent", self.ok("agent", "revoke", agent.id))
        self.assertEqual(agent.jobs()[0], 403)

    def test_request_create_list_show(self):
        agent = self.agent()
        before = time.time()
        out = self.ok("request", self.ref, "--agent", agent.id, "--profile", "base",
                      "--since", "2h", "--until", "2099-11-22T15:00:00+01:00",
                      "--recipient", RECIPIENT)
        self.assertRegex(out, r"^req_[a-z2-7]+\n$")
        shown = json.loads(self.ok("request", "show", out.strip(), "--json"))
        since = calendar.timegm(time.strptime(shown["since"], "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(since, before - 7200, delta=60)
        self.assertEqual((shown["until"], shown["recipients"]),
                         ("2099-11-22T14:00:00Z", [RECIPIENT]))
        # A ticket named like a subcommand, with the explicit form.
        self.server.create_ticket("list")
        alias = self.ok("request", "create", "list", "--agent", agent.id, "--profile", "base")
        self.assertEqual(json.loads(self.ok("request", "show", alias.strip(), "--json"))["ticket"],
                         "list")
        table = self.ok("request", "list", self.ref)
        self.assertRegex(table, rf"(?m)^{out.strip()}\s+{re.escape(self.ref)}\s+{agent.id}\s+base"
                                r"\s+queued\s")
        everything = json.loads(self.ok("request", "list", "--agent", agent.id, "--json"))
        self.assertEqual({r["id"] for r in everything}, {out.strip(), alias.strip()})
        self.assertIn("state     queued", self.ok("request", "show", out.strip()))
        self.one_line_error(self.run_valise("request", self.ref, "--agent", agent.id,
                                            "--profile", "base", "--since", "last week"),
                            r"--since")
        self.one_line_error(self.run_valise("request", self.ref, "--agent", "agt_nobody",
                                            "--profile", "base"), r"404|no agent")
        self.one_line_error(self.run_valise("request", self.ref, "--profile", "base"),
                            r"--agent")

    def test_request_wait_follows_to_the_bundle_or_the_failure(self):
        agent = self.agent()

        def play_agent(outcome):
            status, _, answer = agent.jobs(wait=30)
            job = answer["jobs"][0]
            agent.status(job["id"], "collecting")
            if outcome == "fail":
                agent.status(job["id"], "failed", error="profile base is not remote")
                return
            agent.status(job["id"], "uploading")
            _, headers, _ = agent.upload(job["id"], age_like(3000))
            agent.status(job["id"], "done", bundle_id=headers["valise-bundle-id"])

        player = threading.Thread(target=play_agent, args=("done",))
        player.start()
        out = self.ok("request", self.ref, "--agent", agent.id, "--profile", "base", "--wait")
        player.join(30)
        bundles = self.server.bundles(self.ref)
        self.assertEqual(out.strip(), bundles[0]["id"])
        player = threading.Thread(target=play_agent, args=("fail",))
        player.start()
        result = self.run_valise("request", self.ref, "--agent", agent.id, "--profile", "base",
                                 "--wait")
        player.join(30)
        self.one_line_error(result, r"failed: profile base is not remote")


if __name__ == "__main__":
    unittest.main()
