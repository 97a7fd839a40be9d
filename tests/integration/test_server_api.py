"""The real valise-server on loopback, through its HTTPS API: roles on every
route, tus uploads (plaintext refused, interrupted and resumed, limits), purge
on resolution and by retention, audit, metrics, shutdown. Python 3 standard
library only; VALISE_SERVER_BIN names the binary (ctest sets it)."""
import base64
import hashlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from server_process import SharedServerTest  # noqa: E402

AGE_PREFIX = b"age-encryption.org/v1\n-> X25519 dGVzdA\n"


def age_like(size, seed=b"x"):
    """Bytes that begin like an age file: all the server checks before storing."""
    body = hashlib.sha256(seed).digest() * (size // 32 + 1)
    return (AGE_PREFIX + body)[:size]


def metadata(**values):
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


class ServerTest(SharedServerTest):
    """One server per test class; each test uses its own tickets."""
    workdir_prefix = "valise-api-"

    def setUp(self):
        self.ref = f"{self._testMethodName[:40]}-{time.monotonic_ns() % 100000}"
        self.server.create_ticket(self.ref)

    # --- tus helpers -----------------------------------------------------------

    def tus(self, method, path, token, headers=None, body=None):
        h = {"Tus-Resumable": "1.0.0", **(headers or {})}
        return self.server.request(method, path, body=body, token=token, headers=h)

    def create_upload(self, token, length, **meta):
        status, headers, body = self.tus("POST", "/api/v1/uploads", token,
                                         {"Upload-Length": str(length),
                                          "Upload-Metadata": metadata(**meta)})
        self.assertEqual(status, 201, body)
        return headers["location"]

    def patch(self, token, location, offset, data, headers=None):
        return self.tus("PATCH", location, token,
                        {"Content-Type": "application/offset+octet-stream",
                         "Upload-Offset": str(offset), **(headers or {})}, data)

    def upload(self, token, data, **meta):
        location = self.create_upload(token, len(data), **meta)
        status, headers, body = self.patch(token, location, 0, data)
        self.assertEqual(status, 204, body)
        return headers["valise-bundle-id"], headers["valise-bundle-sha256"]

    def link_token(self, ref=None, **options):
        return self.server.create_link(ref or self.ref, **options)["token"]

    def audit_actions(self, ref=None):
        return [r["action"] for r in self.server.api("GET", f"/api/v1/tickets/{ref or self.ref}/audit",
                                                      expect=200)]

    def stored_files(self):
        return sorted(p.name for p in (self.server.data / "bundles").iterdir())


def restart(server, timeout=30):
    """`run` again on the same data directory; waits for /healthz."""
    with open(server.log_path, "ab") as log:
        server.process = subprocess.Popen([server.binary, "run", "--data", str(server.data)],
                                          stdout=log, stderr=subprocess.STDOUT,
                                          stdin=subprocess.DEVNULL, start_new_session=True)
    server.pid = server.process.pid
    deadline = time.monotonic() + timeout
    while True:
        try:
            if server.request("GET", "/healthz")[0] == 200:
                return
        except OSError:
            pass
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"valise-server did not come back:\n{server.log_tail()}")
        time.sleep(0.1)


class Tickets(ServerTest):
    def test_lifecycle(self):
        t = self.server.api("GET", f"/api/v1/tickets/{self.ref}", expect=200)
        self.assertEqual((t["status"], t["severity"], t["resolved_at"]), ("open", "non-blocking", None))
        self.server.api("POST", "/api/v1/tickets", {"ref": self.ref, "title": "again"}, expect=409)
        listed = self.server.api("GET", "/api/v1/tickets?status=open", expect=200)
        self.assertIn(self.ref, [x["ref"] for x in listed])
        resolved = self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", expect=200)
        self.assertEqual(resolved["ticket"]["status"], "resolved")
        self.assertEqual(resolved["purged"], [])
        self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", expect=409)
        self.assertNotIn(self.ref, [x["ref"] for x in
                                    self.server.api("GET", "/api/v1/tickets?status=open", expect=200)])
        self.assertEqual(self.server.api("POST", f"/api/v1/tickets/{self.ref}/reopen",
                                         expect=200)["status"], "open")
        actions = self.audit_actions()
        for action in ("ticket.created", "ticket.resolved", "ticket.reopened"):
            self.assertIn(action, actions)
        self.assertLess(actions.index("ticket.created"), actions.index("ticket.resolved"))

    def test_bad_input_gets_400_with_a_reason(self):
        for body in ({"ref": "../etc", "title": "x"}, {"ref": "", "title": "x"},
                     {"ref": "A" * 65, "title": "x"}, {"ref": "ok-ref", "title": ""},
                     {"ref": "ok-ref", "title": "x", "severity": "urgent"}, {"ref": 5, "title": "x"}):
            status, _, data = self.server.request("POST", "/api/v1/tickets", body,
                                                  self.server.technician_token)
            self.assertEqual(status, 400, (body, data))
            self.assertIn("message", json.loads(data))
        status, _, data = self.server.request("POST", "/api/v1/tickets", b"{not json",
                                              self.server.technician_token,
                                              {"Content-Type": "application/json"})
        self.assertEqual((status, json.loads(data)["error"]), (400, "bad_json"))
        self.server.api("GET", "/api/v1/tickets/nope-404", expect=404)


class Roles(ServerTest):
    """Each role on each route it must not use: 401/403, an audit record, no data."""
    # Every caller here is 127.0.0.1: no throttle (test_server_hardening.py
    # tests it), and refusals folded over a short interval.
    config_edits = {"auth.failure_burst": "100000", "audit.refusal_interval": '"1s"'}

    def test_every_route_checks_credentials(self):
        link = self.link_token()
        bundle_id, _ = self.upload(link, age_like(100))
        routes = [
            ("GET", "/api/v1/tickets", "technician"),
            ("POST", "/api/v1/tickets", "technician"),
            ("GET", f"/api/v1/tickets/{self.ref}", "technician"),
            ("POST", f"/api/v1/tickets/{self.ref}/resolve", "technician"),
            ("POST", f"/api/v1/tickets/{self.ref}/reopen", "technician"),
            ("POST", f"/api/v1/tickets/{self.ref}/links", "technician"),
            ("GET", f"/api/v1/tickets/{self.ref}/links", "technician"),
            ("GET", f"/api/v1/tickets/{self.ref}/bundles", "technician"),
            ("GET", f"/api/v1/tickets/{self.ref}/audit", "technician"),
            ("GET", f"/api/v1/bundles/{bundle_id}", "technician"),
            ("GET", f"/api/v1/bundles/{bundle_id}/content", "technician"),
            ("DELETE", f"/api/v1/bundles/{bundle_id}", "technician"),
            ("GET", "/metrics", "technician"),
            ("GET", "/api/v1/tokens", "admin"),
            ("POST", "/api/v1/tokens", "admin"),
            ("GET", "/api/v1/audit", "admin"),
            ("POST", "/api/v1/uploads", "uploader"),
        ]
        revoked = self.server._command("token", "create", "--data", str(self.server.data),
                                       "--role", "technician", "--name", "leaver").strip()
        self.server._command("token", "revoke", "--data", str(self.server.data), "leaver")
        callers = {"none": None, "garbage": "vst_notatoken", "revoked": revoked, "link": link,
                   "technician": self.server.technician_token}
        allowed = {"technician": {"technician"}, "admin": set(), "uploader": {"link", "technician"}}
        for method, path, needs in routes:
            for caller, token in callers.items():
                if caller in allowed[needs]:
                    continue
                with self.subTest(route=f"{method} {path}", caller=caller):
                    status, _, data = self.server.request(method, path, {} if method == "POST" else None,
                                                          token, {"Tus-Resumable": "1.0.0"})
                    expected = 401 if caller in ("none", "garbage", "revoked") else 403
                    self.assertEqual(status, expected, data)
                    self.assertNotIn(bundle_id.encode(), data)
                    self.assertNotIn(self.ref.encode(), data)
        # The bundle is still there: nothing was deleted by a refused caller.
        self.server.api("GET", f"/api/v1/bundles/{bundle_id}", expect=200)
        # Refusals from one source are one record, then one with the count of
        # the rest once the interval ends (refusal_interval).
        deadline = time.monotonic() + 10
        while True:
            refusals = [r for r in self.server.api("GET", "/api/v1/audit?limit=10000",
                                                   token=self.server.admin_token, expect=200)
                        if r["action"] == "auth.refused"]
            counted = sum(r["detail"].get("count", 1) for r in refusals)
            if counted >= 40 or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        self.assertGreaterEqual(counted, 40, refusals)
        self.assertFalse(any(revoked in json.dumps(r) or link in json.dumps(r) for r in refusals),
                         "a token leaked into the audit trail")

    def test_links_are_bound_to_their_ticket_and_expire(self):
        other = self.ref + "-other"
        self.server.create_ticket(other)
        link = self.link_token()
        status, _, body = self.tus("POST", "/api/v1/uploads", link,
                                   {"Upload-Length": "100", "Upload-Metadata": metadata(ticket=other)})
        self.assertEqual(status, 403, body)
        short = self.link_token(expires_in_s=1)
        time.sleep(2.2)
        status, _, body = self.tus("POST", "/api/v1/uploads", short, {"Upload-Length": "100"})
        self.assertEqual((status, json.loads(body)["error"]), (401, "link_expired"))
        small = self.link_token(max_bytes=150)
        self.create_upload(small, 100)
        status, _, body = self.tus("POST", "/api/v1/uploads", small, {"Upload-Length": "100"})
        self.assertEqual(status, 413, body)


class Uploads(ServerTest):
    def test_plaintext_is_refused_and_nothing_is_stored(self):
        link = self.link_token()
        before = self.stored_files()
        location = self.create_upload(link, 1000, filename="secrets.txt")
        status, _, body = self.patch(link, location, 0, b"password=hunter2\n" * 50)
        self.assertEqual(status, 415, body)
        self.assertEqual(json.loads(body)["error"], "not_age_encrypted")
        self.assertEqual(self.stored_files(), before)
        upload_id = location.rsplit("/", 1)[1]
        self.assertFalse((self.server.data / "uploads" / upload_id).exists())
        self.assertIn("upload.refused", self.audit_actions())
        self.assertEqual(self.server.bundles(self.ref), [])

    def test_path_like_filenames_are_only_metadata(self):
        link = self.link_token()
        bundle_id, _ = self.upload(link, age_like(64), filename="../../etc/passwd\r\nX-Evil: 1")
        bundle = self.server.api("GET", f"/api/v1/bundles/{bundle_id}", expect=200)
        self.assertTrue(bundle["filename"].startswith("../../etc/passwd"))
        self.assertFalse((self.server.data / "etc").exists())
        self.assertFalse(Path("/etc/passwd").read_bytes().startswith(AGE_PREFIX))
        status, headers, _ = self.server.request("GET", f"/api/v1/bundles/{bundle_id}/content",
                                                 token=self.server.technician_token)
        self.assertEqual(status, 200)
        self.assertNotIn("x-evil", headers)
        self.assertNotIn("/", headers["content-disposition"].split("filename=")[1])

    def test_interrupted_patch_keeps_its_bytes_and_resumes(self):
        link = self.link_token()
        data = age_like(3 * 1024 * 1024)
        location = self.create_upload(link, len(data), filename="big.age")
        # Send headers and part of the body, then drop the connection.
        raw = self.raw_connection()
        half = len(data) // 2
        raw.sendall((f"PATCH {location} HTTP/1.1\r\nHost: localhost\r\n"
                     f"Authorization: Bearer {link}\r\nTus-Resumable: 1.0.0\r\n"
                     f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:half])
        time.sleep(0.5)
        raw.close()
        offset = self.wait_for_offset(link, location, lambda o: o > 0)
        self.assertLessEqual(offset, half)
        # Resumed as a tus client does. A HEAD answered while the server still
        # wrote what it had read of the cut PATCH is behind: the server says
        # so (409, or 423 while that PATCH holds the upload), and the client
        # asks HEAD again.
        deadline = time.monotonic() + 20
        while True:
            status, headers, body = self.patch(link, location, offset, data[offset:])
            if status not in (409, 423) or time.monotonic() > deadline:
                break
            offset = self.wait_for_offset(link, location, lambda o, was=offset: o >= was)
            self.assertLessEqual(offset, half)
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())

    def test_expect_100_continue_is_answered_before_the_body(self):
        link = self.link_token()
        data = age_like(4096)
        location = self.create_upload(link, len(data))
        raw = self.raw_connection()
        raw.settimeout(5)
        raw.sendall((f"PATCH {location} HTTP/1.1\r\nHost: localhost\r\n"
                     f"Authorization: Bearer {link}\r\nTus-Resumable: 1.0.0\r\n"
                     f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                     f"Expect: 100-continue\r\nContent-Length: {len(data)}\r\n\r\n").encode())
        self.assertTrue(raw.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n"))
        raw.sendall(data)
        self.assertIn(b" 204 ", raw.recv(4096))
        raw.close()

    def test_checksummed_patch_is_all_or_nothing(self):
        link = self.link_token()
        data = age_like(1000)
        location = self.create_upload(link, len(data))
        good = base64.b64encode(hashlib.sha256(data[:500]).digest()).decode()
        status, _, _ = self.patch(link, location, 0, data[:500], {"Upload-Checksum": f"sha256 {good}"})
        self.assertEqual(status, 204)
        status, _, _ = self.patch(link, location, 500, data[500:], {"Upload-Checksum": f"sha256 {good}"})
        self.assertEqual(status, 460)
        status, headers, _ = self.tus("HEAD", location, link)
        self.assertEqual((status, headers["upload-offset"]), (200, "500"))

    def test_download_supports_ranges(self):
        data = age_like(5000)
        bundle_id, sha = self.upload(self.link_token(), data, filename="r.age")
        path = f"/api/v1/bundles/{bundle_id}/content"
        status, headers, body = self.server.request("GET", path, token=self.server.technician_token,
                                                    headers={"Range": "bytes=1000-"})
        self.assertEqual((status, body), (206, data[1000:]))
        self.assertEqual(headers["content-range"], "bytes 1000-4999/5000")
        status, _, body = self.server.request("GET", path, token=self.server.technician_token)
        self.assertEqual((status, hashlib.sha256(body).hexdigest()), (200, sha))
        status, _, _ = self.server.request("GET", path, token=self.server.technician_token,
                                           headers={"Range": "bytes=5000-"})
        self.assertEqual(status, 416)
        self.assertIn("bundle.downloaded", self.audit_actions())

    def raw_connection(self):
        context = ssl.create_default_context(cafile=str(self.server.ca))
        sock = socket.create_connection(("127.0.0.1", self.server.port))
        return context.wrap_socket(sock, server_hostname="localhost")

    def wait_for_offset(self, token, location, condition, timeout=10):
        deadline = time.monotonic() + timeout
        while True:
            status, headers, _ = self.tus("HEAD", location, token)
            offset = int(headers.get("upload-offset", "-1"))
            if status == 200 and condition(offset):
                return offset
            if time.monotonic() > deadline:
                self.fail(f"upload offset stuck at {offset} (status {status})")
            time.sleep(0.1)


class Purge(ServerTest):
    def test_resolve_destroys_bundles_and_partial_uploads(self):
        link = self.link_token()
        kept_ref = self.ref + "-kept"
        self.server.create_ticket(kept_ref)
        kept_id, _ = self.upload(self.link_token(kept_ref), age_like(300))
        ids = [self.upload(link, age_like(200 + i, bytes([i]))) for i in range(3)]
        partial = self.create_upload(link, 1000)
        self.assertEqual(self.patch(link, partial, 0, age_like(100))[0], 204)
        files_before = set(self.stored_files())
        result = self.server.api("POST", f"/api/v1/tickets/{self.ref}/resolve", expect=200)
        purged = {p["id"]: p for p in result["purged"]}
        self.assertEqual(set(purged), {i for i, _ in ids})
        for (bundle_id, sha), size in zip(ids, (200, 201, 202)):
            self.assertEqual((purged[bundle_id]["size"], purged[bundle_id]["sha256"]), (size, sha))
            self.server.api("GET", f"/api/v1/bundles/{bundle_id}/content", expect=404)
        self.assertEqual([u["offset"] for u in result["cancelled_uploads"]], [100])
        self.assertEqual(len(set(self.stored_files())), len(files_before) - 3)
        self.assertEqual(list((self.server.data / "uploads").iterdir()), [])
        self.server.api("GET", f"/api/v1/bundles/{kept_id}", expect=200)
        self.assertIn("purge.resolved", self.audit_actions())
        # The link died with the ticket, and says so.
        status, _, body = self.tus("POST", "/api/v1/uploads", link, {"Upload-Length": "100"})
        self.assertEqual((status, json.loads(body)["error"]), (409, "ticket_resolved"))

    def test_audit_chain_verifies(self):
        self.upload(self.link_token(), age_like(100))
        out = subprocess.run([self.server.binary, "audit", "verify", "--data", str(self.server.data)],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"audit chain intact: \d+ records")


class Retention(ServerTest):
    config_edits = {"retention.max_age": '"3s"', "retention.purge_interval": '"1s"',
                    "uploads.expires_after": '"3s"'}

    def test_old_bundles_and_expired_uploads_are_purged(self):
        link = self.link_token()
        bundle_id, _ = self.upload(link, age_like(100))
        partial = self.create_upload(link, 1000)
        self.assertEqual(self.patch(link, partial, 0, age_like(10))[0], 204)
        deadline = time.monotonic() + 20
        while self.stored_files() or list((self.server.data / "uploads").iterdir()):
            self.assertLess(time.monotonic(), deadline, "retention did not purge")
            time.sleep(0.5)
        self.server.api("GET", f"/api/v1/bundles/{bundle_id}", expect=404)
        actions = self.audit_actions()
        self.assertIn("purge.retention", actions)
        self.assertIn("purge.expired_upload", actions)


class Limits(ServerTest):
    config_edits = {"server.max_connections": "4", "server.request_timeout": '"2s"'}

    def test_oversize_and_malformed_requests_get_4xx_and_the_server_keeps_serving(self):
        token = self.server.technician_token
        status, _, _ = self.server.request("GET", "/api/v1/tickets", token=token,
                                           headers={"X-Big": "a" * 20000})
        self.assertEqual(status, 431)
        status, _, _ = self.server.request("POST", "/api/v1/tickets",
                                           b'{"ref":"x","title":"' + b"a" * 70000 + b'"}', token,
                                           {"Content-Type": "application/json"})
        self.assertEqual(status, 413)
        raw = Uploads.raw_connection(self)
        raw.sendall(b"NONSENSE\r\n\r\n")
        self.assertIn(b" 400 ", raw.recv(4096))
        raw.close()
        self.server.api("GET", f"/api/v1/tickets/{self.ref}", expect=200)

    def test_idle_clients_make_room_and_authenticated_ones_hold_the_cap(self):
        # Idle connections that never authenticate: the oldest is closed for a
        # newcomer (test_server_hardening.py has the flood).
        idle = [Uploads.raw_connection(self) for _ in range(4)]
        extra = Uploads.raw_connection(self)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b" 200 ", extra.recv(4096))
        idle[0].settimeout(5)
        self.assertEqual(idle[0].recv(4096), b"", "the oldest idle connection was not closed")
        for s in idle + [extra]:
            s.close()
        time.sleep(0.5)
        # Authenticated connections are never shed: when they hold every
        # place, a newcomer is answered 503.
        held = []
        for _ in range(4):
            conn = Uploads.raw_connection(self)
            conn.sendall(b"GET /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                         + self.server.technician_token.encode() + b"\r\n\r\n")
            self.assertIn(b" 200 ", conn.recv(65536))
            held.append(conn)
        newcomer = Uploads.raw_connection(self)
        newcomer.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertIn(b" 503 ", newcomer.recv(4096))
        newcomer.close()
        for s in held:  # past request_timeout, the server closes the held ones
            s.settimeout(30)
            self.assertEqual(s.recv(4096), b"", "a held connection outlived request_timeout")
            s.close()
        self.server.api("GET", f"/api/v1/tickets/{self.ref}", expect=200)


class Service(ServerTest):
    def test_metrics_count_uploads(self):
        self.upload(self.link_token(), age_like(100))
        status, headers, body = self.server.request("GET", "/metrics", token=self.server.technician_token)
        self.assertEqual(status, 200)
        text = body.decode()
        self.assertRegex(text, r"valise_uploads_completed_total [1-9]")
        self.assertRegex(text, r"valise_bundles_stored [1-9]")
        self.assertIn('valise_http_request_duration_seconds_bucket{le="+Inf"}', text)

    def test_sigterm_keeps_inflight_uploads_resumable(self):
        link = self.link_token()
        data = age_like(2 * 1024 * 1024)
        location = self.create_upload(link, len(data))
        raw = Uploads.raw_connection(self)
        raw.sendall((f"PATCH {location} HTTP/1.1\r\nHost: localhost\r\n"
                     f"Authorization: Bearer {link}\r\nTus-Resumable: 1.0.0\r\n"
                     f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                     f"Content-Length: {len(data)}\r\n\r\n").encode() + data[:1024 * 1024])
        # In flight: the server has written some of it (a server slower than
        # the client, stopped before it read a byte, would have none to keep).
        partial = self.server.data / "uploads" / location.rsplit("/", 1)[1]
        deadline = time.monotonic() + 20
        while not partial.is_file() or partial.stat().st_size == 0:
            self.assertLess(time.monotonic(), deadline, "the server wrote nothing of the PATCH")
            time.sleep(0.05)
        self.assertEqual(self.server.stop(), 0, self.server.log_tail())
        raw.close()
        restart(self.server)
        offset = Uploads.wait_for_offset(self, link, location, lambda o: o > 0, timeout=30)
        status, headers, body = self.patch(link, location, offset, data[offset:])
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    unittest.main()
