"""What the real valise-server does with hostile request input, through its
HTTPS API on loopback: numbers out of range, X-HTTP-Method-Override where it
does not belong, control characters in free text, a duplicate token name, a
500 that must be logged, and cross-origin (CORS) uploads from an allowed and a
foreign origin. Python 3 standard library and the openssl command (agents).

ctest passes VALISE_SERVER_BIN; a missing binary fails the tests, never skips."""
import base64
import json
import sys
import tempfile
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
from server_process import ServerProcess  # noqa: E402
from test_server_agents import Agent, AgentTest, age_like, metadata  # noqa: E402

INT64_MAX = 2**63 - 1
ORIGIN = "https://helpdesk.example"


class InputTest(AgentTest):
    """One server per class; each test its own ticket (self.ref) and folder (self.work)."""

    def call(self, method, path, body=None, token=None, headers=None, agent=None):
        """(status, headers, decoded JSON or raw body); the technician token by default."""
        if agent:
            status, h, data = self.server.request(method, path, body, headers=headers,
                                                  context=agent.context())
        else:
            status, h, data = self.server.request(method, path, body,
                                                  token or self.server.technician_token, headers)
        is_json = h.get("content-type", "").startswith("application/json") and data
        return status, h, json.loads(data) if is_json else data

    def assert_refused(self, status, answer, field, *parts):
        """A 400 bad_request whose one-line message names `field` and each of `parts`."""
        self.assertEqual(status, 400, answer)
        self.assertEqual(answer["error"], "bad_request", answer)
        self.assertIn(field, answer["message"])
        self.assertNotIn("\n", answer["message"])
        for part in parts:
            self.assertIn(part, answer["message"])

    def upload(self, token, data, ticket=None):
        """A completed upload; returns the bundle id."""
        h = {"Tus-Resumable": "1.0.0", "Upload-Length": str(len(data)),
             "Upload-Metadata": metadata(filename="diag.age", ticket=ticket or self.ref)}
        status, headers, body = self.call("POST", "/api/v1/uploads", token=token, headers=h)
        self.assertEqual(status, 201, body)
        status, headers, body = self.call(
            "PATCH", headers["location"], data, token,
            {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream",
             "Upload-Offset": "0"})
        self.assertEqual(status, 204, body)
        return headers["valise-bundle-id"]


# Values no bounded integer field accepts, whatever its range.
NOT_INTEGERS = {"fractional": 1.5, "float-valued": 10.0, "exponent": 1e30, "string": "10",
                "bool": True, "list": [1], "object": {"n": 1}}
NOT_QUERY_INTEGERS = {"fractional": "1.5", "string": "ten", "bool": "true", "empty": "",
                      "sign": "+5", "trailing": "10abc", "spaces": "%2010",
                      "huge": "99999999999999999999999"}


class NumericFields(InputTest):
    """Every numeric field of every request, at and past its range: 400 naming
    the field and its range, and nothing wrapped into the store."""

    def json_fields(self):
        """(route, field, low, high, a body to which the field is added, token)."""
        return [
            (f"/api/v1/tickets/{self.ref}/links", "expires_in_s", 1, 7776000, {}, None),
            (f"/api/v1/tickets/{self.ref}/links", "max_bytes", 1, INT64_MAX, {}, None),
            ("/api/v1/enroll-tokens", "expires_in_s", 1, 604800, {}, None),
        ]

    def test_json_numbers_out_of_range_or_not_integers_are_refused(self):
        for path, field, low, high, base, token in self.json_fields():
            bad = {"too big": high + 1, "uint64 max": 2**64 - 1, "past uint64": 2**64,
                   "negative": -1, "below": low - 1, **NOT_INTEGERS}
            for case, value in bad.items():
                if case == "below" and low - 1 < 0:
                    continue
                with self.subTest(path=path, field=field, case=case):
                    status, _, answer = self.call("POST", path, {**base, field: value}, token)
                    self.assert_refused(status, answer, field, f"{low} to {high}")

    def test_json_numbers_at_their_bounds_are_stored_exactly(self):
        link = self.server.create_link(self.ref, max_bytes=INT64_MAX, expires_in_s=7776000)
        self.assertEqual(link["max_bytes"], INT64_MAX)
        listed = self.server.api("GET", f"/api/v1/tickets/{self.ref}/links", expect=200)
        self.assertEqual([x["max_bytes"] for x in listed if x["id"] == link["id"]], [INT64_MAX])
        # The budget works: an upload with this link is not refused as over budget.
        self.upload(link["token"], age_like(200))
        small = self.server.create_link(self.ref, max_bytes=1, expires_in_s=1)
        self.assertEqual(small["max_bytes"], 1)
        self.server.api("POST", "/api/v1/enroll-tokens", {"expires_in_s": 604800}, expect=201)

    def test_the_reported_wrap_is_gone(self):
        # The issue: 201 and -1 stored, then every upload with the link got 413.
        status, _, answer = self.call("POST", f"/api/v1/tickets/{self.ref}/links",
                                      {"max_bytes": 18446744073709551615})
        self.assert_refused(status, answer, "max_bytes", str(INT64_MAX))
        listed = self.server.api("GET", f"/api/v1/tickets/{self.ref}/links", expect=200)
        self.assertEqual(listed, [])

    def test_query_numbers_out_of_range_or_not_integers_are_refused(self):
        admin = self.server.admin_token
        routes = [("/api/v1/tickets", "limit", 1, 1000, None),
                  ("/api/v1/requests", "limit", 1, 1000, None),
                  ("/api/v1/audit", "limit", 1, 10000, admin),
                  ("/api/v1/audit", "since_seq", 0, INT64_MAX, admin)]
        for path, field, low, high, token in routes:
            bad = {"too big": str(high + 1), "negative": "-1", **NOT_QUERY_INTEGERS}
            if low > 0:
                bad["below"] = str(low - 1)
            for case, value in bad.items():
                with self.subTest(path=path, field=field, case=case):
                    status, _, answer = self.call("GET", f"{path}?{field}={value}", token=token)
                    self.assert_refused(status, answer, field, f"{low} to {high}")
            with self.subTest(path=path, field=field, case="bounds"):
                for value in (low, high):
                    status, _, answer = self.call("GET", f"{path}?{field}={value}", token=token)
                    self.assertEqual(status, 200, answer)

    def test_the_agents_wait_is_bounded_too(self):
        agent = Agent(self.server, self.work).enrolled()
        for case, value in {"too big": "61", "negative": "-1", **NOT_QUERY_INTEGERS}.items():
            with self.subTest(case=case):
                status, _, answer = self.call("GET", f"/api/v1/agent/jobs?wait={value}",
                                              agent=agent)
                self.assert_refused(status, answer, "wait", "0 to 60")
        status, _, answer = self.call("GET", "/api/v1/agent/jobs?wait=0", agent=agent)
        self.assertEqual(status, 200, answer)


class MethodOverride(InputTest):
    """X-HTTP-Method-Override is honoured on the tus upload URLs only (PATCH,
    DELETE, HEAD), as docs/api.md says; elsewhere it is refused, not ignored."""

    def test_an_override_cannot_delete_a_bundle(self):
        bundle = self.upload(self.server.technician_token, age_like(300))
        status, _, answer = self.call("POST", f"/api/v1/bundles/{bundle}",
                                      headers={"X-HTTP-Method-Override": "DELETE"})
        self.assertEqual(status, 400, answer)
        self.assertEqual(answer["error"], "bad_request")
        self.assertIn("X-HTTP-Method-Override", answer["message"])
        self.server.api("GET", f"/api/v1/bundles/{bundle}", expect=200)
        actions = [r["action"] for r in
                   self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200)]
        self.assertNotIn("bundle.deleted", actions)

    def test_an_override_is_refused_on_every_route_but_tus_uploads(self):
        bundle = self.upload(self.server.technician_token, age_like(300))
        cases = [("POST", f"/api/v1/tickets/{self.ref}/resolve", "GET"),
                 ("POST", f"/api/v1/tickets/{self.ref}/links", "GET"),
                 ("POST", "/api/v1/tickets", "DELETE"),
                 ("POST", "/api/v1/uploads", "DELETE"),
                 ("GET", f"/api/v1/bundles/{bundle}", "DELETE"),
                 ("POST", "/api/v1/tokens", "GET")]
        for method, path, verb in cases:
            with self.subTest(route=f"{method} {path}", override=verb):
                status, _, answer = self.call(method, path, {} if method == "POST" else None,
                                              headers={"X-HTTP-Method-Override": verb})
                self.assertEqual(status, 400, answer)
                self.assertIn("X-HTTP-Method-Override", answer["message"])
        ticket = self.server.api("GET", f"/api/v1/tickets/{self.ref}", expect=200)
        self.assertEqual((ticket["status"], ticket["bundles"]), ("open", 1))

    def test_tus_clients_behind_proxies_still_patch_head_and_delete(self):
        token = self.server.technician_token
        tus = {"Tus-Resumable": "1.0.0"}
        data = age_like(500)
        status, h, body = self.call("POST", "/api/v1/uploads", token=token, headers={
            **tus, "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(filename="a.age", ticket=self.ref)})
        self.assertEqual(status, 201, body)
        location = h["location"]
        status, h, body = self.call("POST", location, data[:100], token, {
            **tus, "X-HTTP-Method-Override": "PATCH", "Upload-Offset": "0",
            "Content-Type": "application/offset+octet-stream"})
        self.assertEqual((status, h.get("upload-offset")), (204, "100"), body)
        status, h, body = self.call("POST", location, None, token,
                                    {**tus, "X-HTTP-Method-Override": "HEAD"})
        self.assertEqual((status, h.get("upload-offset")), (200, "100"), body)
        status, _, body = self.call("POST", location, None, token,
                                    {**tus, "X-HTTP-Method-Override": "DELETE"})
        self.assertEqual(status, 204, body)
        status, _, _ = self.call("HEAD", location, None, token, tus)
        self.assertIn(status, (404, 410))

    def test_an_unknown_or_misplaced_override_is_refused(self):
        token = self.server.technician_token
        data = age_like(100)
        tus = {"Tus-Resumable": "1.0.0"}
        status, h, body = self.call("POST", "/api/v1/uploads", token=token, headers={
            **tus, "Upload-Length": str(len(data)),
            "Upload-Metadata": metadata(filename="a.age", ticket=self.ref)})
        self.assertEqual(status, 201, body)
        location = h["location"]
        for method, verb in (("POST", "FROB"), ("POST", "GET"), ("POST", "POST"),
                             ("PATCH", "DELETE"), ("HEAD", "DELETE")):
            with self.subTest(method=method, override=verb):
                status, _, answer = self.call(method, location, None, token,
                                              {**tus, "X-HTTP-Method-Override": verb,
                                               "Content-Type": "application/offset+octet-stream",
                                               "Upload-Offset": "0"})
                self.assertEqual(status, 400, answer)
        # The upload is untouched: still there, at offset 0.
        status, h, _ = self.call("HEAD", location, None, token, tus)
        self.assertEqual((status, h.get("upload-offset")), (200, "0"))


# Control characters a free-text field refuses: C0 (tab included), DEL, C1.
CONTROLS = {"NUL": "\x00", "ESC": "\x1b[31m", "newline": "a\nb", "CR": "a\rb", "tab": "a\tb",
            "DEL": "a\x7fb", "C1 NEL": "a\x85b", "C1 CSI": "a\x9b31m"}


class ControlCharacters(InputTest):
    """Every free-text field of every JSON body refuses control characters with
    a 400 that names the field; printable Unicode is kept as sent."""

    def test_every_free_text_field_refuses_control_characters(self):
        agent = Agent(self.server, self.work).enrolled()
        ask = self.server.api("POST", f"/api/v1/tickets/{self.ref}/requests",
                              {"agent": agent.id, "profile": "base"}, expect=201)
        enroll = {"csr": "-----BEGIN CERTIFICATE REQUEST-----\n", "hostname": "db1"}
        # (path, field, the rest of the body, how to call). A report's `error`
        # is cleaned instead (test_report_text.py).
        fields = [
            ("/api/v1/tickets", "title", {"ref": self.ref + "-c"}, {}),
            ("/api/v1/tickets", "ref", {"title": "t"}, {}),
            ("/api/v1/tokens", "name", {"role": "technician"},
             {"token": self.server.admin_token}),
            (f"/api/v1/tickets/{self.ref}/requests", "agent", {"profile": "base"}, {}),
            (f"/api/v1/tickets/{self.ref}/requests", "profile", {"agent": agent.id}, {}),
            ("/api/v1/agent/heartbeat", "hostname", {}, {"agent": agent}),
            ("/api/v1/agent/heartbeat", "os", {}, {"agent": agent}),
            ("/api/v1/agent/heartbeat", "kernel", {}, {"agent": agent}),
            ("/api/v1/agent/heartbeat", "version", {}, {"agent": agent}),
            (f"/api/v1/agent/requests/{ask['id']}/status", "bundle_id", {"state": "collecting"},
             {"agent": agent}),
        ]
        for path, field, rest, how in fields:
            for case, value in CONTROLS.items():
                with self.subTest(path=path, field=field, case=case):
                    status, _, answer = self.call("POST", path, {**rest, field: value}, **how)
                    self.assert_refused(status, answer, field)
        for field in ("hostname", "os", "kernel", "version"):
            for case, value in CONTROLS.items():
                with self.subTest(path="/api/v1/enroll", field=field, case=case):
                    token = self.server.create_enroll_token()
                    status, _, answer = self.call("POST", "/api/v1/enroll",
                                                  {**enroll, field: value}, token)
                    self.assert_refused(status, answer, field)
                    # The refusal did not use the token up.
                    status, _, answer = self.call("POST", "/api/v1/enroll", {"hostname": "x"}, token)
                    self.assertNotEqual(status, 401, answer)
        # Nothing was changed by a refused report: the request is still queued,
        # the agent's facts are the enrolled ones.
        self.assertEqual(self.server.api("GET", f"/api/v1/requests/{ask['id']}",
                                         expect=200)["state"], "queued")
        self.assertEqual(self.server.api("GET", f"/api/v1/agents/{agent.id}",
                                         expect=200)["hostname"], "db1")

    def test_printable_unicode_is_kept(self):
        title = "Caf\u00e9 \u00fcber \u65e5\u672c \u2014 disque plein (100 %) \"quoted\" \\ ok"
        created = self.server.api("POST", "/api/v1/tickets",
                                  {"ref": self.ref + "-u", "title": title}, expect=201)
        self.assertEqual(created["title"], title)
        token = self.server.api("POST", "/api/v1/tokens", {"role": "technician",
                                                           "name": "J\u00fcrgen's laptop"},
                                token=self.server.admin_token, expect=201)
        self.assertEqual(token["name"], "J\u00fcrgen's laptop")


class Errors(InputTest):
    """Error codes that say what happened, and 500s whose cause is logged."""

    def test_a_duplicate_token_name_has_its_own_code_and_hint(self):
        admin = self.server.admin_token
        body = {"role": "technician", "name": f"laptop-{self.ref}"}
        self.server.api("POST", "/api/v1/tokens", body, token=admin, expect=201)
        status, _, answer = self.call("POST", "/api/v1/tokens", body, admin)
        self.assertEqual(status, 409, answer)
        self.assertEqual(answer["error"], "token_exists")
        self.assertIn(body["name"], answer["message"])
        self.assertNotIn("ticket", answer["message"] + answer["hint"])
        self.assertIn("name", answer["hint"])

    def test_a_500_is_logged_with_its_cause(self):
        # Root ignores permissions: a file where the uploads directory was makes
        # creating an upload's file fail (ENOTDIR) on any filesystem.
        uploads = self.server.data / "uploads"
        self.assertTrue(uploads.is_dir(), list(self.server.data.iterdir()))
        saved = self.server.data / "uploads.saved"
        uploads.rename(saved)
        try:
            uploads.write_text("not a directory\n")
            before = self.server.log_path.read_text(errors="replace")
            status, _, answer = self.call("POST", "/api/v1/uploads", headers={
                "Tus-Resumable": "1.0.0", "Upload-Length": "100",
                "Upload-Metadata": metadata(filename="a.age", ticket=self.ref)})
        finally:
            uploads.unlink()
            saved.rename(uploads)
        self.assertEqual(status, 500, answer)
        self.assertEqual(answer["error"], "internal")
        self.assertIn("logged", answer["hint"])
        # The server's log gained an error line with the cause, after a moment.
        deadline = time.monotonic() + 5
        while True:
            new = self.server.log_path.read_text(errors="replace")[len(before):]
            lines = [line for line in new.splitlines() if "[error]" in line]
            if lines or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertTrue(any("Not a directory" in line for line in lines), new)
        self.assertTrue(any(self.ref in line for line in lines), new)
        self.assertNotIn(self.server.technician_token, new)


TUS_EXPOSED = ["Location", "Upload-Offset", "Upload-Length", "Tus-Version", "Tus-Resumable",
               "Tus-Max-Size", "Tus-Extension", "Upload-Metadata", "Upload-Defer-Length",
               "Upload-Expires", "Upload-Concat", "Tus-Checksum-Algorithm", "Valise-Bundle-Id",
               "Valise-Bundle-Sha256"]
TUS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Tus-Resumable", "Upload-Length",
                       "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length",
                       "Upload-Checksum", "Upload-Concat", "X-HTTP-Method-Override",
                       "X-Requested-With"]


def listed(value):
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}


class CrossOrigin(InputTest):
    """A browser upload widget on an allowed origin can upload with a link; any
    other origin gets no CORS header at all; other routes never get them."""
    config_edits = {"cors.allowed_origins": f'["{ORIGIN}", "http://localhost:8080"]'}

    def preflight(self, path, origin=ORIGIN, method="PATCH"):
        # Browsers send no credential on a preflight.
        return self.server.request("OPTIONS", path, headers={
            "Origin": origin, "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization,tus-resumable,upload-offset,"
                                              "content-type,upload-length,upload-metadata"})

    def assert_cors(self, headers, origin=ORIGIN):
        self.assertEqual(headers.get("access-control-allow-origin"), origin, headers)
        self.assertIn("origin", listed(headers.get("vary")))
        self.assertNotIn("access-control-allow-credentials", headers)

    def assert_no_cors(self, headers):
        self.assertEqual([k for k in headers if k.startswith("access-control-")], [], headers)

    def test_preflight_on_the_endpoint_and_an_upload_url(self):
        link = self.server.create_link(self.ref)["token"]
        status, h, _ = self.call("POST", "/api/v1/uploads", token=link, headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": "100"})
        self.assertEqual(status, 201)
        for path, method in (("/api/v1/uploads", "POST"), (h["location"], "PATCH"),
                             (h["location"], "HEAD"), (h["location"], "DELETE"),
                             ("/api/v1/uploads/upl_unknown", "PATCH")):
            with self.subTest(path=path, method=method):
                status, headers, body = self.preflight(path, method=method)
                self.assertEqual(status, 204, body)
                self.assert_cors(headers)
                self.assertEqual(listed(headers.get("access-control-allow-methods")),
                                 {"post", "patch", "head", "delete", "options"})
                self.assertEqual(listed(headers.get("access-control-allow-headers")),
                                 {x.lower() for x in TUS_REQUEST_HEADERS})
                self.assertGreater(int(headers.get("access-control-max-age", "0")), 0)
        status, headers, _ = self.preflight("/api/v1/uploads", origin="http://localhost:8080")
        self.assertEqual(status, 204)
        self.assert_cors(headers, "http://localhost:8080")

    def test_an_upload_from_an_allowed_origin_reads_every_tus_header(self):
        link = self.server.create_link(self.ref)["token"]
        data = age_like(300)
        cors = {"Origin": ORIGIN, "Tus-Resumable": "1.0.0"}
        status, h, body = self.call("POST", "/api/v1/uploads", token=link, headers={
            **cors, "Upload-Length": str(len(data)), "Upload-Metadata": metadata(filename="a.age")})
        self.assertEqual(status, 201, body)
        self.assert_cors(h)
        self.assertEqual(listed(h.get("access-control-expose-headers")),
                         {x.lower() for x in TUS_EXPOSED})
        status, h, body = self.call("PATCH", h["location"], data, link, {
            **cors, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"})
        self.assertEqual(status, 204, body)
        self.assert_cors(h)
        self.assertIn("valise-bundle-sha256", listed(h.get("access-control-expose-headers")))
        # Errors too, so that the widget can show them: a wrong token, a missing version.
        for token, headers in (("vsl_wrong", {**cors, "Upload-Length": "1"}),
                               (link, {"Origin": ORIGIN, "Upload-Length": "1"})):
            status, h, body = self.call("POST", "/api/v1/uploads", token=token, headers=headers)
            self.assertIn(status, (401, 412), body)
            self.assert_cors(h)

    def test_a_foreign_origin_gets_no_cors_headers(self):
        link = self.server.create_link(self.ref)["token"]
        for origin in ("https://evil.example", "https://helpdesk.example.evil.example",
                       "https://HELPDESK.example.", "null", ORIGIN + ":443", ORIGIN + "/"):
            with self.subTest(origin=origin):
                status, headers, _ = self.preflight("/api/v1/uploads", origin=origin)
                self.assert_no_cors(headers)
                status, headers, _ = self.call("POST", "/api/v1/uploads", token=link, headers={
                    "Origin": origin, "Tus-Resumable": "1.0.0", "Upload-Length": "100"})
                self.assertEqual(status, 201)
                self.assert_no_cors(headers)

    def test_technician_routes_never_answer_cross_origin(self):
        for method, path in (("GET", "/api/v1/tickets"), ("OPTIONS", "/api/v1/tickets"),
                             ("GET", f"/api/v1/tickets/{self.ref}/bundles"),
                             ("GET", "/healthz")):
            with self.subTest(method=method, path=path):
                _, headers, _ = self.call(method, path, headers={
                    "Origin": ORIGIN, "Access-Control-Request-Method": "GET"})
                self.assert_no_cors(headers)


class CrossOriginOff(InputTest):
    """Without allowed origins (the default), no CORS header anywhere."""

    def test_the_default_allows_no_origin(self):
        status, headers, _ = self.server.request("OPTIONS", "/api/v1/uploads", headers={
            "Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        self.assertEqual(status, 204)
        self.assertEqual([k for k in headers if k.startswith("access-control-")], [])
        text = (self.server.data / "server.toml").read_text()
        self.assertIn("[cors]\n", text)
        self.assertIn("allowed_origins = []", text)


class StoredText(InputTest):
    """Text a database cannot store (a NUL byte, bytes that are not UTF-8) is
    a 400 whichever database the server uses: PostgreSQL refuses it, and the
    server refuses it on SQLite too rather than keep what a second node could
    not. Never a 500. (Also registered as postgresql.server_input.StoredText.)"""

    def raw_metadata(self, **values):
        return ",".join(f"{k} {base64.b64encode(v).decode()}" for k, v in values.items())

    def create(self, **values):
        return self.call("POST", "/api/v1/uploads", headers={
            "Tus-Resumable": "1.0.0", "Upload-Length": "100",
            "Upload-Metadata": self.raw_metadata(**values)})

    def test_bytes_a_database_cannot_store_are_refused_with_a_400(self):
        for case, value in {"cut UTF-8": b"caf\xc3.age", "latin-1": b"r\xe9sum\xe9.age",
                            "lone continuation": b"\x80.age"}.items():
            with self.subTest(field="filename", case=case):
                status, _, answer = self.create(filename=value, ticket=self.ref.encode())
                self.assert_refused(status, answer, "UTF-8")
            with self.subTest(field="ticket", case=case):
                status, _, answer = self.server.request("POST", "/api/v1/uploads", None,
                                                        self.server.technician_token, {
                    "Tus-Resumable": "1.0.0", "Upload-Length": "100",
                    "Upload-Metadata": self.raw_metadata(filename=b"a.age", ticket=value)})
                self.assertEqual(status, 400, answer)
        # Raw bytes in a JSON body: refused before the store, as before.
        status, _, answer = self.call("POST", "/api/v1/tickets",
                                      b'{"ref": "bad-\xff", "title": "t"}',
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(status, 400, answer)
        status, _, answer = self.call("POST", f"/api/v1/tickets/{self.ref}/comments",
                                      {"text": "a\x00b"})
        self.assertEqual(status, 400, answer)
        # Nothing was half-stored, and the server goes on as usual.
        status, _, answer = self.create(filename="r\u00e9sum\u00e9.age".encode(),
                                        ticket=self.ref.encode())
        self.assertEqual(status, 201, answer)
        self.assertNotIn("internal", self.server.log_tail(400))


if __name__ == "__main__":
    unittest.main()
