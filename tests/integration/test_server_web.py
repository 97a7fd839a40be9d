"""The browser's side of the real valise-server on loopback: the pages and
their assets from a web root configured with [web] root (every header, path
traversal refused, a missing root named), the console's event long-poll and
uploads in progress, and the TLS certificate replaced while serving (SIGHUP
and a change of the files) by one from another CA, as a public one would be,
with connections open meanwhile and agents still authenticating with
valise's CA. Python 3 standard library and the openssl command.

ctest passes VALISE_SERVER_BIN and HTTPS_GET (common/'s HTTPS client, as agents
use it); a missing binary fails the tests, never skips them."""
import hashlib
import http.client
import json
import os
import re
import signal
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
sys.path.insert(0, str(HERE))
from server_process import ServerProcess, SharedServerTest  # noqa: E402
from test_server_agents import Agent, age_like, metadata, new_key, openssl  # noqa: E402

CSP = ("default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; "
       "connect-src 'self'; img-src 'self' data:; style-src 'self'; font-src 'self'; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
IMMUTABLE = "public, max-age=31536000, immutable"
SECRET = "do-not-serve-this"


def raw_request(server, method, target, context=None):
    """A request with `target` sent exactly as written (no client-side
    normalisation): (status, headers, body)."""
    conn = http.client.HTTPSConnection("127.0.0.1", server.port,
                                       context=context or server.tls_context(), timeout=30)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "localhost")
        conn.endheaders()
        response = conn.getresponse()
        body = response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, body
    finally:
        conn.close()


class StaticSite(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-web-")
        base = Path(cls.tmp.name)
        cls.root = base / "web"
        (cls.root / "assets").mkdir(parents=True)
        cls.files = {
            "console.html": b"<!doctype html><title>console</title>",
            "drop.html": b"<!doctype html><title>drop</title>",
            "assets/console-AB12.js": b"console.log('c')",
            "assets/drop-CD34.css": b"body{}",
            "assets/zstd-EF56.wasm": b"\0asm\1\0\0\0",
            "assets/logo-1.svg": b"<svg/>",
        }
        for name, data in cls.files.items():
            (cls.root / name).write_bytes(data)
        (base / "secret.txt").write_text(SECRET)
        (cls.root / "assets" / "link.js").symlink_to(base / "secret.txt")
        cls.server = ServerProcess(base / "server", config_edits={"web.root": f'"{cls.root}"'})
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        cls.tmp.cleanup()

    def assert_security_headers(self, headers):
        self.assertEqual(headers.get("x-content-type-options"), "nosniff")
        self.assertEqual(headers.get("referrer-policy"), "no-referrer")

    def assert_page(self, path, file):
        status, headers, body = self.server.request("GET", path)
        self.assertEqual(status, 200, path)
        self.assertEqual(body, self.files[file], path)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        self.assertEqual(headers["cache-control"], "no-store")
        self.assertEqual(headers["content-security-policy"], CSP)
        self.assertEqual(headers["x-frame-options"], "DENY")
        self.assert_security_headers(headers)
        self.assertEqual(headers["content-length"], str(len(self.files[file])))

    def test_root_redirects_to_the_console(self):
        status, headers, body = self.server.request("GET", "/")
        self.assertEqual(status, 303)
        self.assertEqual(headers["location"], "/console")
        self.assert_security_headers(headers)

    def test_pages_need_no_credential(self):
        self.assert_page("/console", "console.html")
        self.assert_page("/console/tickets/T-1", "console.html")
        self.assert_page("/console/agents?state=revoked", "console.html")
        self.assert_page("/drop", "drop.html")

    def test_assets_are_immutable_with_their_type(self):
        types = {"js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
                 "wasm": "application/wasm", "svg": "image/svg+xml"}
        for name, data in self.files.items():
            if not name.startswith("assets/"):
                continue
            status, headers, body = self.server.request("GET", "/" + name)
            self.assertEqual(status, 200, name)
            self.assertEqual(body, data, name)
            self.assertEqual(headers["content-type"], types[name.rsplit(".", 1)[1]], name)
            self.assertEqual(headers["cache-control"], IMMUTABLE, name)
            self.assertNotIn("content-security-policy", headers, name)
            self.assert_security_headers(headers)

    def test_head_gives_the_headers_and_length_without_a_body(self):
        status, headers, body = self.server.request("HEAD", "/console")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"")
        self.assertEqual(headers["content-length"], str(len(self.files["console.html"])))
        self.assertEqual(headers["content-security-policy"], CSP)
        status, headers, body = self.server.request("HEAD", "/assets/zstd-EF56.wasm")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-length"], str(len(self.files["assets/zstd-EF56.wasm"])))
        self.assertEqual(headers["cache-control"], IMMUTABLE)

    def test_other_methods_are_405(self):
        status, headers, _ = self.server.request("POST", "/console", body=b"x")
        self.assertEqual(status, 405)
        self.assertEqual(headers["allow"], "GET, HEAD")

    def test_traversal_and_links_are_refused(self):
        for target in ["/assets/../secret.txt", "/assets/..%2fsecret.txt", "/assets/%2e%2e",
                       "/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/assets/..%2F..%2Fsecret.txt",
                       "/assets/.%2e/secret.txt", "/assets/link.js", "/assets/assets",
                       "/assets/%2fetc%2fpasswd", "/assets/a%00.js", "/assets/.hidden",
                       "/assets/missing-1.js", "/../secret.txt", "/drop/../secret.txt",
                       "/console.html", "/assets/", "/secret.txt"]:
            status, headers, body = raw_request(self.server, "GET", target)
            self.assertIn(status, (400, 404), target)
            self.assertNotIn(SECRET.encode(), body, target)
            self.assert_security_headers(headers)
        # Anything under /console is the console page, never a file.
        status, _, body = raw_request(self.server, "GET", "/console/../../secret.txt")
        self.assertEqual((status, body), (200, self.files["console.html"]))

    def test_api_responses_carry_the_security_headers(self):
        for path, token in (("/healthz", None), ("/api/v1/tickets", self.server.technician_token),
                            ("/api/v1/tickets", None), ("/api/v2/nothing", None)):
            _, headers, _ = self.server.request("GET", path, token=token)
            self.assert_security_headers(headers)
            self.assertNotIn("content-security-policy", headers)


class MissingWebRoot(unittest.TestCase):
    def test_pages_say_they_are_not_installed_and_where_they_were_looked_for(self):
        with tempfile.TemporaryDirectory(prefix="valise-web-") as tmp:
            missing = Path(tmp) / "not-here"
            server = ServerProcess(Path(tmp) / "server",
                                   config_edits={"web.root": f'"{missing}"'})
            with server:
                for path in ("/console", "/drop", "/assets/console-AB12.js"):
                    status, headers, body = server.request("GET", path)
                    self.assertEqual(status, 404, path)
                    self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
                    text = body.decode()
                    self.assertIn("not installed", text)
                    self.assertIn(str(missing), text)
                    self.assertEqual(text.count("\n"), 1, text)
                # The API is unaffected.
                self.assertEqual(server.request("GET", "/healthz")[0], 200)
                warnings = [line for line in server.log_path.read_text().splitlines()
                            if "not installed" in line]
            self.assertEqual(len(warnings), 1, warnings)
            self.assertIn(str(missing), warnings[0])


class ConsoleTest(SharedServerTest):
    workdir_prefix = "valise-console-"

    def events(self, query, token=None, timeout=90):
        status, _, body = self.server.request("GET", f"/api/v1/events?{query}",
                                              token=token or self.server.technician_token,
                                              timeout=timeout)
        return status, json.loads(body)

    def head(self, token=None):
        status, answer = self.events("", token)
        self.assertEqual(status, 200, answer)
        self.assertEqual(answer["events"], [])
        return answer["last"]

    def new_ref(self, prefix="T"):
        return f"{prefix}-{self._testMethodName[:30]}-{time.monotonic_ns() % 100000}"

    def polls_waiting(self):
        """The server's valise_event_polls_waiting: event long-polls parked."""
        status, _, body = self.server.request("GET", "/metrics",
                                              token=self.server.technician_token)
        self.assertEqual(status, 200, body)
        found = re.search(rb"^valise_event_polls_waiting (\d+)$", body, re.M)
        self.assertTrue(found, "no valise_event_polls_waiting in /metrics")
        return int(found.group(1))

    def until_waiting(self, count, timeout=20):
        """Until `count` event long-polls are parked (a loaded machine may
        take seconds to send them)."""
        deadline = time.monotonic() + timeout
        while self.polls_waiting() < count:
            self.assertLess(time.monotonic(), deadline, f"fewer than {count} polls waiting")
            time.sleep(0.05)


class Events(ConsoleTest):
    def test_without_after_a_page_starts_from_now(self):
        first = self.head()
        self.server.create_ticket(self.new_ref())
        self.assertGreater(self.head(), first)

    def test_after_gives_later_records_in_order(self):
        start = self.head()
        refs = [self.new_ref(str(i)) for i in range(3)]
        for ref in refs:
            self.server.create_ticket(ref)
        status, answer = self.events(f"after={start}")
        self.assertEqual(status, 200)
        created = [e for e in answer["events"] if e["action"] == "ticket.created"]
        self.assertEqual([e["ticket"] for e in created], refs)
        seqs = [e["seq"] for e in answer["events"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertTrue(all(s > start for s in seqs))
        self.assertEqual(answer["last"], seqs[-1])
        event = created[0]
        self.assertEqual(set(event), {"seq", "time", "actor", "action", "ticket", "detail"})
        self.assertIsInstance(event["detail"], dict)
        # From the last one on: nothing more.
        status, again = self.events(f"after={answer['last']}")
        self.assertEqual((status, again["events"], again["last"]), (200, [], answer["last"]))
        # From the middle: only what came after.
        status, tail = self.events(f"after={created[1]['seq']}")
        self.assertEqual([e["ticket"] for e in tail["events"] if e["action"] == "ticket.created"],
                         refs[2:])

    def test_long_poll_wakes_within_a_second_of_a_new_record(self):
        start = self.head()
        result = {}

        def poll():
            began = time.monotonic()
            result["answer"] = self.events(f"after={start}&wait=30")
            result["done"] = time.monotonic()
            result["took"] = result["done"] - began

        before = self.polls_waiting()
        waiter = threading.Thread(target=poll)
        waiter.start()
        time.sleep(1.0)
        self.until_waiting(before + 1)  # the poll is waiting
        self.assertNotIn("answer", result)
        ref = self.new_ref()
        created_at = time.monotonic()
        self.server.create_ticket(ref)
        waiter.join(30)
        self.assertFalse(waiter.is_alive())
        status, answer = result["answer"]
        self.assertEqual(status, 200)
        self.assertLess(result["done"] - created_at, 1.0)
        self.assertGreater(result["took"], 0.9)
        self.assertIn(("ticket.created", ref),
                      [(e["action"], e["ticket"]) for e in answer["events"]])

    def test_a_wait_with_nothing_new_ends_empty(self):
        start = self.head()
        began = time.monotonic()
        status, answer = self.events(f"after={start}&wait=1")
        self.assertEqual((status, answer["events"]), (200, []))
        self.assertGreaterEqual(time.monotonic() - began, 0.9)

    def test_refusals_and_token_records_are_filtered(self):
        start = self.head()
        # An unknown token: auth.refused, which nobody's feed shows.
        self.assertEqual(self.server.request("GET", "/api/v1/tickets", token="vst_wrong")[0], 401)
        # A failed sign-in: session.refused, which names the account tried.
        self.assertEqual(self.server.request("POST", "/api/v1/session",
                                             {"user": "nobody", "password": "wrong password!"})[0],
                         401)
        token = self.server.api("POST", "/api/v1/tokens", {"role": "technician", "name": "feed"},
                                token=self.server.admin_token, expect=201)
        _, technician = self.events(f"after={start}")
        _, admin = self.events(f"after={start}", token=self.server.admin_token)
        technician_actions = [e["action"] for e in technician["events"]]
        admin_actions = [e["action"] for e in admin["events"]]
        self.assertNotIn("auth.refused", technician_actions + admin_actions)
        self.assertNotIn("session.refused", technician_actions + admin_actions)
        self.assertNotIn("token.created", technician_actions)
        self.assertIn("token.created", admin_actions)
        # The technician's feed moves past what it does not show.
        self.assertEqual(technician["last"], admin["last"])
        self.assertTrue(token["token"])

    def test_a_filtered_record_does_not_end_a_wait(self):
        start = self.head()
        result = {}
        before = self.polls_waiting()
        # Long enough to outlast what follows on a loaded machine: only the
        # ticket's record ends it.
        waiter = threading.Thread(
            target=lambda: result.setdefault("answer", self.events(f"after={start}&wait=20")))
        waiter.start()
        self.until_waiting(before + 1)
        self.server.api("POST", "/api/v1/tokens", {"role": "technician", "name": "hidden"},
                        token=self.server.admin_token, expect=201)
        time.sleep(0.5)
        self.assertNotIn("answer", result)  # still waiting: nothing it may see
        ref = self.new_ref()
        self.server.create_ticket(ref)
        waiter.join(30)
        self.assertFalse(waiter.is_alive(), "the ticket's record did not end the wait")
        status, answer = result["answer"]
        self.assertEqual(status, 200)
        self.assertEqual([e["action"] for e in answer["events"]], ["ticket.created"])

    def test_bad_parameters_and_roles(self):
        for query in ("after=-1", "after=x", "after=1&wait=61", "after=1&wait=-1"):
            status, answer = self.events(query)
            self.assertEqual((status, answer["error"]), (400, "bad_request"), query)
        ref = self.new_ref()
        self.server.create_ticket(ref)
        link = self.server.create_link(ref)["token"]
        status, _ = self.events("after=0", token=link)
        self.assertEqual(status, 403)
        self.assertEqual(self.server.request("GET", "/api/v1/events")[0], 401)

    def test_waiting_requests_per_credential_are_bounded(self):
        token = self.server.command("token", "create", "--data", str(self.server.data),
                                    "--role", "technician", "--name", "tabs").strip()
        start = self.head(token)
        results = []
        # Waits long enough to be still parked when the ninth comes, however
        # slowly the eight arrive (nothing wakes them: no record that far on).
        before = self.polls_waiting()
        threads = [threading.Thread(target=lambda: results.append(
            self.events(f"after={start + 10**9}&wait=15", token=token))) for _ in range(8)]
        for t in threads:
            t.start()
        self.until_waiting(before + 8)
        status, answer = self.events(f"after={start}&wait=4", token=token)
        self.assertEqual((status, answer["error"]), (429, "too_many_waits"))
        # Another credential is not affected.
        status, _ = self.events(f"after={start}&wait=0")
        self.assertEqual(status, 200)
        for t in threads:
            t.join(60)
        self.assertEqual([s for s, _ in results], [200] * 8)


class Uploads(ConsoleTest):
    def tus(self, method, path, token, headers=None, body=None):
        return self.server.request(method, path, body=body, token=token,
                                   headers={"Tus-Resumable": "1.0.0", **(headers or {})})

    def test_unfinished_uploads_with_their_offsets(self):
        ref = self.new_ref()
        self.server.create_ticket(ref)
        uploads = f"/api/v1/tickets/{ref}/uploads"
        self.assertEqual(self.server.api("GET", uploads, expect=200), [])
        link = self.server.create_link(ref)["token"]
        data = age_like(1000)
        status, headers, body = self.tus("POST", "/api/v1/uploads", link,
                                         {"Upload-Length": "1000",
                                          "Upload-Metadata": metadata(filename="logs.age")})
        self.assertEqual(status, 201, body)
        location = headers["location"]
        status, _, body = self.tus("PATCH", location, link,
                                   {"Content-Type": "application/offset+octet-stream",
                                    "Upload-Offset": "0"}, data[:300])
        self.assertEqual(status, 204, body)
        status, headers, body = self.tus("POST", "/api/v1/uploads", self.server.technician_token,
                                         {"Upload-Defer-Length": "1",
                                          "Upload-Metadata": metadata(ticket=ref)})
        self.assertEqual(status, 201, body)
        listed = self.server.api("GET", uploads, expect=200)
        self.assertEqual(len(listed), 2, listed)
        first = next(u for u in listed if u["id"] == location.rsplit("/", 1)[1])
        second = next(u for u in listed if u is not first)
        self.assertEqual((first["filename"], first["offset"], first["length"]),
                         ("logs.age", 300, 1000))
        self.assertTrue(first["source"].startswith("link:"), first)
        self.assertEqual(set(first), {"id", "filename", "offset", "length", "source",
                                      "created_at", "updated_at", "expires_at"})
        self.assertGreaterEqual(first["updated_at"], first["created_at"])
        self.assertEqual((second["offset"], second["length"]), (0, None))
        # Completed: gone from the list.
        status, _, body = self.tus("PATCH", location, link,
                                   {"Content-Type": "application/offset+octet-stream",
                                    "Upload-Offset": "300"}, data[300:])
        self.assertEqual(status, 204, body)
        self.assertEqual([u["offset"] for u in self.server.api("GET", uploads, expect=200)], [0])

    def test_unknown_ticket_and_roles(self):
        status, _, body = self.server.request("GET", "/api/v1/tickets/nope/uploads",
                                              token=self.server.technician_token)
        self.assertEqual((status, json.loads(body)["error"]), (404, "ticket_not_found"))
        ref = self.new_ref()
        self.server.create_ticket(ref)
        link = self.server.create_link(ref)["token"]
        self.assertEqual(self.server.request("GET", f"/api/v1/tickets/{ref}/uploads",
                                             token=link)[0], 403)


def make_certificate(directory, name, hostname="localhost"):
    """A CA of its own (as a public CA would be) and a certificate for
    `hostname` and 127.0.0.1 it signed: (ca.pem, fullchain.pem, key.pem)."""
    d = Path(directory) / name
    d.mkdir(parents=True)
    ca_key = new_key(d / "ca.key")
    openssl("req", "-x509", "-new", "-key", ca_key, "-subj", f"/CN=Public Test CA {name}",
            "-days", "30", "-out", d / "ca.pem")
    key = new_key(d / "key.pem")
    openssl("req", "-new", "-key", key, "-subj", f"/CN={hostname}", "-out", d / "csr.pem")
    (d / "ext.cnf").write_text(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n"
                               "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", d / "csr.pem", "-CA", d / "ca.pem", "-CAkey", ca_key,
            "-CAcreateserial", "-days", "30", "-extfile", d / "ext.cnf", "-out", d / "cert.pem")
    (d / "fullchain.pem").write_text((d / "cert.pem").read_text() + (d / "ca.pem").read_text())
    return d / "ca.pem", d / "fullchain.pem", key


def pem_sha256(path):
    der = ssl.PEM_cert_to_DER_cert(Path(path).read_text().split("-----END CERTIFICATE-----")[0]
                                   + "-----END CERTIFICATE-----\n")
    return hashlib.sha256(der).hexdigest()


class CertificateReload(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-cert-")
        self.server = ServerProcess(Path(self.tmp.name) / "server")
        self.server.start()
        self.certificate = self.server.data / "tls" / "server.pem"
        self.key = self.server.data / "tls" / "server.key"

    def tearDown(self):
        self.server.stop()
        self.tmp.cleanup()

    def served_sha256(self):
        """The certificate a new connection gets, whoever issued it."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as raw:
            with context.wrap_socket(raw, server_hostname="localhost") as tls:
                return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()

    def install(self, fullchain, key):
        """Replaces the files as certbot's deploy hook would copy them (new
        files renamed over the old ones)."""
        for source, target in ((fullchain, self.certificate), (key, self.key)):
            temporary = target.with_suffix(".new")
            temporary.write_bytes(Path(source).read_bytes())
            os.chmod(temporary, 0o600)
            os.replace(temporary, target)

    def wait_for_certificate(self, sha256, timeout):
        deadline = time.monotonic() + timeout
        while self.served_sha256() != sha256:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.2)
        return True

    def log_lines(self, text):
        return [line for line in self.server.log_path.read_text().splitlines() if text in line]

    def test_sighup_serves_the_new_certificate_and_keeps_connections(self):
        old = self.served_sha256()
        self.assertEqual(old, pem_sha256(self.certificate))
        agent = Agent(self.server, self.tmp.name).enrolled()
        # A connection opened before, kept alive across the swap.
        before = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                             context=self.server.tls_context(), timeout=30)
        before.request("GET", "/healthz")
        response = before.getresponse()
        self.assertEqual(response.status, 200)
        response.read()
        public_ca, fullchain, key = make_certificate(self.tmp.name, "public")
        self.install(fullchain, key)
        os.kill(self.server.pid, signal.SIGHUP)
        self.assertTrue(self.wait_for_certificate(pem_sha256(fullchain), 5))
        self.assertEqual(len(self.log_lines("TLS certificate reloaded (SIGHUP)")), 1)
        # New connections verify against the new (public) CA, by host name.
        public = ssl.create_default_context(cafile=str(public_ca))
        status, _, _ = self.server.request("GET", "/healthz", context=public)
        self.assertEqual(status, 200)
        with self.assertRaises(ssl.SSLCertVerificationError):
            self.server.request("GET", "/healthz")  # valise's CA no longer names the server
        # The connection from before still works, with its certificate.
        before.request("GET", "/api/v1/tickets",
                       headers={"Authorization": f"Bearer {self.server.technician_token}"})
        response = before.getresponse()
        self.assertEqual(response.status, 200)
        response.read()
        self.assertEqual(hashlib.sha256(before.sock.getpeercert(binary_form=True)).hexdigest(), old)
        before.close()
        # Agents still authenticate with valise's CA's client certificates.
        agent_context = ssl.create_default_context(cafile=str(public_ca))
        agent_context.load_cert_chain(str(agent.cert), str(agent.key))
        status, _, body = self.server.request("GET", "/api/v1/agent/jobs?wait=0",
                                              context=agent_context)
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body), {"jobs": []})
        # A client certificate from the public CA is not an agent's.
        stranger_key = new_key(Path(self.tmp.name) / "stranger.key")
        stranger_dir = Path(self.tmp.name) / "public"
        openssl("req", "-new", "-key", stranger_key, "-subj", "/CN=stranger",
                "-out", stranger_dir / "stranger.csr")
        openssl("x509", "-req", "-in", stranger_dir / "stranger.csr", "-CA", public_ca,
                "-CAkey", stranger_dir / "ca.key", "-CAcreateserial", "-days", "1",
                "-out", stranger_dir / "stranger.pem")
        stranger = ssl.create_default_context(cafile=str(public_ca))
        stranger.load_cert_chain(str(stranger_dir / "stranger.pem"), str(stranger_key))
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError,
                                http.client.RemoteDisconnected)):
            self.server.request("GET", "/api/v1/agent/jobs?wait=0", context=stranger)

    def handshake_sha256(self, trusted_ca):
        """The certificate served to a client that names `trusted_ca` as the CA it
        trusts (TLS 1.3 certificate_authorities, as agents do)."""
        result = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{self.server.port}", "-servername",
             "localhost", "-tls1_3", "-requestCAfile", str(trusted_ca)],
            input=b"", capture_output=True, timeout=60)
        pem = re.search(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                        result.stdout.decode(), re.S)
        self.assertIsNotNone(pem, result.stderr)
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem.group(0))).hexdigest()

    def test_clients_trusting_valise_ca_get_its_own_certificate(self):
        own = pem_sha256(self.certificate)
        public_ca, fullchain, key = make_certificate(self.tmp.name, "public")
        self.server.stop()
        tls = self.server.data / "tls"
        (tls / "public.pem").write_bytes(fullchain.read_bytes())
        (tls / "public.key").write_bytes(key.read_bytes())
        self.server.config_edits = {"tls.certificate": '"tls/public.pem"',
                                    "tls.private_key": '"tls/public.key"',
                                    "tls.own_certificate": '"tls/server.pem"',
                                    "tls.own_private_key": '"tls/server.key"'}
        self.server._edit_config()
        trust = ssl.create_default_context(cafile=str(self.server.ca))
        trust.load_verify_locations(cafile=str(public_ca))
        self.server._ssl = trust
        self.server.run()
        # Browsers name no CA: the public certificate.
        self.assertEqual(self.served_sha256(), pem_sha256(fullchain))
        self.assertEqual(self.handshake_sha256(public_ca), pem_sha256(fullchain))
        # A client naming valise's CA (agents, through common/'s client): valise's own.
        self.assertEqual(self.handshake_sha256(self.server.ca), own)
        https_get = os.environ.get("HTTPS_GET", "")
        self.assertTrue(https_get and Path(https_get).is_file(), "HTTPS_GET is not set")
        result = subprocess.run([https_get, f"https://127.0.0.1:{self.server.port}/healthz",
                                 "--ca", str(self.server.ca)], capture_output=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(b"HTTP 200", result.stdout)
        # An agent authenticates; a reload keeps both pairs.
        agent = Agent(self.server, self.tmp.name).enrolled()
        agent_context = ssl.create_default_context(cafile=str(public_ca))
        agent_context.load_cert_chain(str(agent.cert), str(agent.key))
        status, _, body = self.server.request("GET", "/api/v1/agent/jobs?wait=0",
                                              context=agent_context)
        self.assertEqual(status, 200, body)
        os.kill(self.server.pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not self.log_lines("TLS certificate reloaded (SIGHUP)"):
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.1)
        self.assertEqual(self.handshake_sha256(self.server.ca), own)
        self.assertEqual(self.served_sha256(), pem_sha256(fullchain))

    def test_changed_files_are_picked_up_without_a_signal(self):
        _, fullchain, key = make_certificate(self.tmp.name, "renewed")
        self.install(fullchain, key)
        self.assertTrue(self.wait_for_certificate(pem_sha256(fullchain), 15))
        self.assertEqual(len(self.log_lines("TLS certificate reloaded (the files changed)")), 1)
        # Nothing changed since: no second reload.
        time.sleep(6)
        self.assertEqual(len(self.log_lines("TLS certificate reloaded")), 1)

    def test_a_broken_pair_keeps_the_old_certificate(self):
        old = self.served_sha256()
        _, fullchain, _ = make_certificate(self.tmp.name, "first")
        _, _, other_key = make_certificate(self.tmp.name, "second")
        self.install(fullchain, other_key)  # a key that is not the certificate's
        os.kill(self.server.pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while not self.log_lines("TLS certificate not reloaded") and time.monotonic() < deadline:
            time.sleep(0.1)
        errors = self.log_lines("TLS certificate not reloaded")
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("is not the key of the certificate", errors[0])
        self.assertEqual(self.served_sha256(), old)
        self.assertEqual(self.server.request("GET", "/healthz")[0], 200)
        # The poll saw the same change: it is not reported again.
        time.sleep(6)
        self.assertEqual(len(self.log_lines("TLS certificate not reloaded")), 1)
        # Garbage in the certificate file: the same.
        self.certificate.write_text("not a certificate\n")
        os.kill(self.server.pid, signal.SIGHUP)
        deadline = time.monotonic() + 5
        while len(self.log_lines("TLS certificate not reloaded")) < 2 and \
                time.monotonic() < deadline:
            time.sleep(0.1)
        # Two at most: the poll may see the file before the signal arrives.
        self.assertIn(len(self.log_lines("TLS certificate not reloaded")), (2, 3))
        self.assertEqual(self.served_sha256(), old)
        self.assertTrue(all("BEGIN" not in line for line in self.log_lines("TLS")))


if __name__ == "__main__":
    unittest.main()
