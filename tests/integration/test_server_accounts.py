"""Technician accounts and the console's browser sessions against the real
valise-server over TLS (issue 14): `valise-server user` with the password on
standard input, sign-in and its cookie, sessions on the API like a token of
the same role, sign-out, idle and absolute timeouts, CSRF and Origin checks,
sign-in throttling per account and per address, disabled users, and no
password in the log or the data directory. Python 3 standard library only;
VALISE_SERVER_BIN names the binary (ctest sets it)."""
import contextlib
import http.client
import json
import re
import sqlite3
import subprocess
import sys
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from server_process import SharedServerTest  # noqa: E402

COOKIE = "__Host-valise_session"
SET_COOKIE = re.compile(
    r"^__Host-valise_session=(vss_[a-z2-7]{52}); Path=/; Secure; HttpOnly; SameSite=Strict$")
CLEAR_COOKIE = "__Host-valise_session=; Path=/; Max-Age=0; Secure; HttpOnly; SameSite=Strict"
# Every password this module uses: none may be found in the server's files.
PASSWORDS = {
    "alice": "correct horse battery alice",
    "bob": "bob's long passphrase 42",
    "carol": "carol-signs-in-from-the-API",
    "admin1": "an admin's password, long",
}


class Session:
    """A signed-in browser: its cookie and CSRF token."""

    def __init__(self, cookie, csrf, body):
        self.cookie, self.csrf, self.body = cookie, csrf, body

    def headers(self, csrf=True, **extra):
        h = {"Cookie": f"{COOKIE}={self.cookie}", **extra}
        if csrf:
            h["X-Valise-CSRF"] = self.csrf
        return h


class AccountsTest(SharedServerTest):
    """One server per class; users are made with the real command line."""
    users = ()  # made with `valise-server user add` before the tests, passwords from PASSWORDS
    workdir_prefix = "valise-accounts-"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.origin = f"https://localhost:{cls.server.port}"
        for name in cls.users:
            subprocess.run([cls.server.binary, "user", "add", name, "--data",
                            str(cls.server.data)], input=(PASSWORDS[name] + "\n").encode(),
                           check=True, capture_output=True, timeout=60)

    def user_command(self, *args, password=None):
        """`valise-server user ARGS --data DATA` with `password` as stdin's one line."""
        return subprocess.run(
            [self.server.binary, "user", *args, "--data", str(self.server.data)],
            input=None if password is None else (password + "\n").encode(),
            stdin=subprocess.DEVNULL if password is None else None,
            capture_output=True, timeout=60)

    def add_user(self, name, role="technician"):
        result = self.user_command("add", "--role", role, name, password=PASSWORDS[name])
        self.assertEqual(result.returncode, 0, result.stderr)
        return result

    def request(self, method, path, body=None, headers=None, source="127.0.0.1", token=None):
        """(status, headers as a list of pairs, body bytes) over a fresh TLS connection."""
        conn = http.client.HTTPSConnection("127.0.0.1", self.server.port,
                                           context=self.server.tls_context(), timeout=30,
                                           source_address=(source, 0))
        try:
            h = dict(headers or {})
            if token:
                h["Authorization"] = f"Bearer {token}"
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
                h.setdefault("Content-Type", "application/json")
            conn.request(method, path, body=body, headers=h)
            response = conn.getresponse()
            return response.status, response.getheaders(), response.read()
        finally:
            conn.close()

    def sign_in(self, user, password=None, expect=201, source="127.0.0.1"):
        status, headers, body = self.request(
            "POST", "/api/v1/session",
            {"user": user, "password": PASSWORDS.get(user) if password is None else password},
            source=source)
        self.assertEqual(status, expect, body)
        if expect != 201:
            return status, dict((k.lower(), v) for k, v in headers), json.loads(body)
        cookies = [v for k, v in headers if k.lower() == "set-cookie"]
        self.assertEqual(len(cookies), 1, cookies)
        match = SET_COOKIE.match(cookies[0])
        self.assertIsNotNone(match, cookies[0])
        data = json.loads(body)
        return Session(match.group(1), data["csrf"], data)

    def error(self, body):
        return json.loads(body)["error"]

    def audit(self, action):
        records = self.server.api("GET", "/api/v1/audit?limit=10000",
                                  token=self.server.admin_token, expect=200)
        return [r for r in records if r["action"] == action]


class Users(AccountsTest):
    def test_the_command_line_adds_lists_and_refuses_clearly(self):
        result = self.add_user("alice")
        self.assertEqual(result.stdout.decode().strip(), "created technician alice")
        listed = self.user_command("list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertRegex(listed.stdout.decode(), r"(?m)^alice\s+technician\s+created \S+\s+last sign-in never$")
        again = self.user_command("add", "ALICE", password="another long password")
        self.assertEqual(again.returncode, 1)
        self.assertEqual(again.stderr.decode().splitlines()[0], 'valise-server: user "alice" exists')
        short = self.user_command("add", "dave", password="short pw")
        self.assertEqual(short.returncode, 1)
        self.assertEqual(short.stderr.decode().splitlines()[0],
                         "valise-server: the password is too short: use at least 12 characters")
        unknown = self.user_command("passwd", "nobody", password="a long enough password")
        self.assertEqual(unknown.returncode, 1)
        self.assertEqual(unknown.stderr.decode().splitlines()[0],
                         'valise-server: no user named "nobody"')
        bad_name = self.user_command("add", "no spaces", password="a long enough password")
        self.assertEqual(bad_name.returncode, 1)
        self.assertIn("is not a user name", bad_name.stderr.decode())
        empty = self.user_command("add", "erin", password="")
        self.assertEqual(empty.returncode, 1)
        self.assertIn("no password on standard input", empty.stderr.decode())
        self.assertNotIn("dave", self.user_command("list").stdout.decode())

    def test_admins_manage_users_through_the_api(self):
        admin = self.server.admin_token
        status, _, body = self.request("POST", "/api/v1/users",
                                       {"name": "carol", "role": "technician",
                                        "password": PASSWORDS["carol"]}, token=admin)
        self.assertEqual(status, 201, body)
        made = json.loads(body)
        self.assertEqual({k: made[k] for k in ("name", "role", "disabled", "last_sign_in")},
                         {"name": "carol", "role": "technician", "disabled": False,
                          "last_sign_in": None})
        status, _, body = self.request("POST", "/api/v1/users",
                                       {"name": "carol", "password": "whatever is long"},
                                       token=admin)
        self.assertEqual((status, self.error(body)), (409, "user_exists"))
        status, _, body = self.request("POST", "/api/v1/users",
                                       {"name": "frank", "password": "short"}, token=admin)
        self.assertEqual(status, 400)
        self.assertIn("at least 12 characters", json.loads(body)["message"])
        # A technician, by token or by session, may not.
        status, _, _ = self.request("GET", "/api/v1/users", token=self.server.technician_token)
        self.assertEqual(status, 403)
        carol = self.sign_in("carol")
        status, _, _ = self.request("GET", "/api/v1/users", headers=carol.headers())
        self.assertEqual(status, 403)
        users = self.server.api("GET", "/api/v1/users", token=admin, expect=200)
        carol_row = next(u for u in users if u["name"] == "carol")
        self.assertIsNotNone(carol_row["last_sign_in"])
        self.assertEqual(set(carol_row), {"name", "role", "disabled", "created_at", "last_sign_in"})
        status, _, body = self.request("POST", "/api/v1/users/nobody/disable", token=admin)
        self.assertEqual((status, self.error(body)), (404, "user_not_found"))

    def test_an_admin_session_is_an_admin(self):
        self.add_user("admin1", role="admin")
        admin = self.sign_in("admin1")
        self.assertEqual(admin.body["user"], {"name": "admin1", "role": "admin"})
        status, _, body = self.request("GET", "/api/v1/users", headers=admin.headers())
        self.assertEqual(status, 200, body)


class Sessions(AccountsTest):
    users = ("alice",)

    def test_sign_in_sets_the_cookie_exactly(self):
        session = self.sign_in("alice")
        self.assertEqual(set(session.body), {"user", "csrf", "expires_at", "idle_timeout_s"})
        self.assertEqual(session.body["user"], {"name": "alice", "role": "technician"})
        self.assertEqual(session.body["idle_timeout_s"], 1800)
        self.assertGreaterEqual(len(session.csrf), 32)
        status, headers, body = self.request("GET", "/api/v1/session",
                                             headers=session.headers(csrf=False))
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["csrf"], session.csrf)
        self.assertIn(("Cache-Control", "no-store"), headers)

    def test_a_session_works_like_a_technician_token_and_audits_the_user(self):
        session = self.sign_in("alice")
        status, _, body = self.request("GET", "/api/v1/tickets", headers=session.headers(csrf=False))
        self.assertEqual(status, 200, body)
        status, _, body = self.request("POST", "/api/v1/tickets",
                                       {"ref": "SESSION-1", "title": "from the console"},
                                       headers=session.headers())
        self.assertEqual(status, 201, body)
        created = [r for r in self.audit("ticket.created") if r["ticket"] == "SESSION-1"]
        self.assertEqual([r["actor"] for r in created], ["user:alice"])
        self.assertTrue(any(r["actor"] == "user:alice" for r in self.audit("session.created")))
        # Admin routes stay closed to a technician's session.
        status, _, _ = self.request("GET", "/api/v1/audit", headers=session.headers())
        self.assertEqual(status, 403)

    def test_sign_out_ends_the_session_on_the_server(self):
        session = self.sign_in("alice")
        status, headers, _ = self.request("DELETE", "/api/v1/session", headers=session.headers())
        self.assertEqual(status, 204)
        self.assertIn(("Set-Cookie", CLEAR_COOKIE), headers)
        for path in ("/api/v1/tickets", "/api/v1/session"):
            status, headers, body = self.request("GET", path, headers=session.headers())
            self.assertEqual((status, self.error(body)), (401, "unauthorized"), path)
            # The dead cookie is cleared, or each request of an open tab
            # would spend the address's allowance of failures.
            self.assertIn(("Set-Cookie", CLEAR_COOKIE), headers, path)
        ended = [r for r in self.audit("session.ended") if r["actor"] == "user:alice"]
        self.assertTrue(any(r["detail"]["reason"] == "signed out" for r in ended), ended)

    def test_wrong_password_and_unknown_user_get_the_same_answer(self):
        _, _, wrong = self.sign_in("alice", "not alice's password", expect=401, source="127.0.0.31")
        _, _, unknown = self.sign_in("mallory", "not anyone's password", expect=401,
                                     source="127.0.0.31")
        self.assertEqual(wrong, unknown)
        self.assertEqual(wrong["error"], "bad_credentials")
        refused = self.audit("session.refused")
        self.assertTrue(refused, "sign-in refusals are audited")

    def test_sign_in_takes_json_only(self):
        status, _, body = self.request(
            "POST", "/api/v1/session",
            body=f"user=alice&password={PASSWORDS['alice']}".encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded"})
        self.assertEqual((status, self.error(body)), (415, "wrong_content_type"))

    def test_no_cookie_is_not_signed_in_and_tokens_are_unaffected(self):
        status, _, body = self.request("GET", "/api/v1/session")
        self.assertEqual((status, self.error(body)), (401, "unauthorized"))
        status, _, _ = self.request("GET", "/api/v1/session", token=self.server.technician_token)
        self.assertEqual(status, 401)
        # A bearer token needs no CSRF header, whatever cookie comes with it.
        status, _, body = self.request("POST", "/api/v1/tickets",
                                       {"ref": "TOKEN-1", "title": "from a script"},
                                       token=self.server.technician_token,
                                       headers={"Cookie": f"{COOKIE}=vss_bogus"})
        self.assertEqual(status, 201, body)


class Timeouts(AccountsTest):
    # Times are whole seconds on the server: the margins below allow for
    # that, and for a slow sign-in on a loaded machine.
    config_edits = {"console.session_idle_timeout": '"3s"', "console.session_lifetime": '"6s"'}
    users = ("alice",)

    def tickets(self, session):
        return self.request("GET", "/api/v1/tickets", headers=session.headers())[0]

    def test_an_idle_session_ends(self):
        session = self.sign_in("alice")
        self.assertEqual(session.body["idle_timeout_s"], 3)
        time.sleep(1)
        self.assertEqual(self.tickets(session), 200)
        time.sleep(4.2)
        self.assertEqual(self.tickets(session), 401)

    def test_an_open_console_tab_does_not_keep_an_idle_session(self):
        # The console's event long-poll and upload polling run on their own
        # while the tab is open: they are not uses, or an unattended tab
        # would stay signed in until the lifetime.
        session = self.sign_in("alice")
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 4.5:
            status = self.request("GET", "/api/v1/events?wait=0", headers=session.headers())[0]
            statuses.append((round(time.monotonic() - started, 1), status))
            time.sleep(0.5)
        self.assertEqual({s for t, s in statuses if t < 2}, {200}, statuses)
        self.assertEqual(self.tickets(session), 401, statuses)

    def test_a_busy_session_ends_at_its_lifetime(self):
        session = self.sign_in("alice")
        started = time.monotonic()
        statuses = []
        while time.monotonic() - started < 8.5:
            statuses.append((round(time.monotonic() - started, 1), self.tickets(session)))
            time.sleep(0.5)
        # Used every half second, it outlives its idle timeout, not its lifetime.
        early = [s for t, s in statuses if t < 4]
        late = [s for t, s in statuses if t > 7.1]
        self.assertEqual(set(early), {200}, statuses)
        self.assertEqual(set(late), {401}, statuses)


class Csrf(AccountsTest):
    users = ("alice",)

    def ticket_exists(self, ref):
        status, _, _ = self.request("GET", f"/api/v1/tickets/{ref}",
                                    token=self.server.technician_token)
        return status == 200

    def test_a_cross_site_form_post_is_refused(self):
        session = self.sign_in("alice")
        status, _, body = self.request(
            "POST", "/api/v1/tickets", body=b"ref=FORM-1&title=forged",
            headers=session.headers(csrf=False,
                                    **{"Content-Type": "application/x-www-form-urlencoded",
                                       "Origin": "https://evil.example"}))
        self.assertEqual((status, self.error(body)), (403, "csrf_failed"))
        # Even without an Origin, no CSRF header is refused.
        status, _, body = self.request(
            "POST", "/api/v1/tickets", body=b'{"ref": "FORM-2", "title": "forged"}',
            headers=session.headers(csrf=False, **{"Content-Type": "application/json"}))
        self.assertEqual((status, self.error(body)), (403, "csrf_failed"))
        status, _, body = self.request(
            "POST", "/api/v1/tickets", {"ref": "FORM-3", "title": "forged"},
            headers={"Cookie": f"{COOKIE}={session.cookie}", "X-Valise-CSRF": "0" * 52})
        self.assertEqual((status, self.error(body)), (403, "csrf_failed"))
        for ref in ("FORM-1", "FORM-2", "FORM-3"):
            self.assertFalse(self.ticket_exists(ref), ref)

    def test_the_right_csrf_header_from_the_own_origin_works(self):
        session = self.sign_in("alice")
        status, _, body = self.request("POST", "/api/v1/tickets",
                                       {"ref": "CSRF-OK", "title": "real"},
                                       headers=session.headers(Origin=self.origin))
        self.assertEqual(status, 201, body)
        self.assertTrue(self.ticket_exists("CSRF-OK"))

    def test_another_origin_is_refused_even_with_the_token(self):
        session = self.sign_in("alice")
        for method, path, body in (("POST", "/api/v1/tickets", {"ref": "ORIGIN-1", "title": "x"}),
                                   ("GET", "/api/v1/tickets", None)):
            status, _, answer = self.request(
                method, path, body, headers=session.headers(Origin="https://sibling.localhost"))
            self.assertEqual((status, self.error(answer)), (403, "csrf_failed"), method)
        self.assertFalse(self.ticket_exists("ORIGIN-1"))


class SignInThrottle(AccountsTest):
    config_edits = {"auth.failure_burst": "15", "auth.failure_window": '"10m"'}
    users = ("alice", "bob")

    def test_per_account_then_per_address(self):
        source = "127.0.0.41"
        for i in range(10):
            self.sign_in("alice", f"wrong guess number {i}", expect=401, source=source)
        # The account is held back, even with its right password, from any address.
        status, headers, body = self.sign_in("alice", expect=429, source="127.0.0.42")
        self.assertEqual(body["error"], "too_many_failures")
        self.assertGreater(int(headers["retry-after"]), 0)
        # Another account from the first address still signs in...
        self.assertIsInstance(self.sign_in("bob", source=source), Session)
        # ... until the address's own allowance (15) is spent.
        for i in range(5):
            self.sign_in(f"nobody{i}", "wrong password again", expect=401, source=source)
        status, headers, body = self.sign_in("bob", expect=429, source=source)
        self.assertGreater(int(headers["retry-after"]), 0)
        self.assertIsInstance(self.sign_in("bob", source="127.0.0.43"), Session)


class DisabledUsers(AccountsTest):
    users = ("alice", "bob")

    def test_disabling_ends_sessions_and_sign_in(self):
        session = self.sign_in("alice")
        result = self.user_command("disable", "alice")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.decode().strip(), "disabled alice")
        status, _, _ = self.request("GET", "/api/v1/tickets", headers=session.headers())
        self.assertEqual(status, 401)
        _, _, body = self.sign_in("alice", expect=401, source="127.0.0.51")
        self.assertEqual(body["error"], "bad_credentials")
        self.assertIn("disabled", self.user_command("list").stdout.decode())
        self.assertEqual(self.user_command("enable", "alice").returncode, 0)
        self.assertIsInstance(self.sign_in("alice", source="127.0.0.52"), Session)

    def test_the_api_disables_and_changes_passwords(self):
        admin = self.server.admin_token
        session = self.sign_in("bob")
        status, _, body = self.request("POST", "/api/v1/users/bob/disable", token=admin)
        self.assertEqual(status, 200, body)
        self.assertTrue(json.loads(body)["disabled"])
        self.assertEqual(self.request("GET", "/api/v1/session", headers=session.headers())[0], 401)
        status, _, body = self.request("POST", "/api/v1/users/bob/enable", token=admin)
        self.assertEqual(status, 200, body)
        session = self.sign_in("bob", source="127.0.0.53")
        new = PASSWORDS["bob"] + " renewed"
        PASSWORDS["bob-renewed"] = new
        status, _, body = self.request("POST", "/api/v1/users/bob/password", {"password": new},
                                       token=admin)
        self.assertEqual(status, 204, body)
        self.assertEqual(self.request("GET", "/api/v1/session", headers=session.headers())[0], 401)
        self.sign_in("bob", expect=401, source="127.0.0.54")
        self.assertIsInstance(self.sign_in("bob", new, source="127.0.0.55"), Session)
        reasons = {r["detail"]["reason"] for r in self.audit("session.ended")}
        self.assertLessEqual({"user disabled", "password changed"}, reasons)


class Secrets(AccountsTest):
    """After users were made, signed in, refused and changed, no password is
    in the server's log or anywhere in its data directory."""
    config_edits = {"log.level": '"trace"'}

    def test_passwords_are_nowhere_on_disk(self):
        self.add_user("alice")
        self.sign_in("alice")
        self.sign_in("alice", PASSWORDS["carol"], expect=401)
        self.request("POST", "/api/v1/users", {"name": "carol", "password": PASSWORDS["carol"]},
                     token=self.server.admin_token)
        self.sign_in("carol")
        self.request("POST", "/api/v1/users/carol/password", {"password": PASSWORDS["admin1"]},
                     token=self.server.admin_token)
        # A password typed in the user field names no account: it is not kept.
        typed_in_the_wrong_field = "correct-horse-battery-staple"
        # (From an address of its own: its first refusal is a record at once.)
        self.sign_in(typed_in_the_wrong_field, PASSWORDS["alice"], expect=401,
                     source="127.0.0.77")
        self.server.stop()
        files = [self.server.log_path, *[p for p in self.server.data.rglob("*") if p.is_file()]]
        self.assertTrue(any(p.name == "valise.db" for p in files), files)
        for path in files:
            data = path.read_bytes()
            for password in (PASSWORDS["alice"], PASSWORDS["carol"], PASSWORDS["admin1"],
                             typed_in_the_wrong_field):
                # (Not assertNotIn: its message would print the whole file.)
                self.assertFalse(password.encode() in data, f"{password!r} found in {path}")
        with contextlib.closing(sqlite3.connect(self.server.data / "valise.db")) as db:
            hashes = [row[0] for row in db.execute("SELECT password_hash FROM users")]
        self.assertEqual(len(hashes), 2)
        for h in hashes:
            self.assertRegex(h, r"^\$argon2id\$v=19\$m=65536,t=2,p=1\$")
        self.server.run()


if __name__ == "__main__":
    unittest.main()
