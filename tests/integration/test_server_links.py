"""Upload links for the browser drop page, through the real valise-server on
loopback: the age recipients a link encrypts to (the team's from server.toml
`[keys] recipients`, narrowed, or a passphrase), its drop URL, what its holder
learns from GET /api/v1/link and the refusals it gets when it no longer works,
and deferred-length uploads charged to the link's byte budget as their bytes
arrive. Python 3 standard library only; VALISE_SERVER_BIN names the binary."""
import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_server_api import ServerTest, age_like, metadata  # noqa: E402

BECH32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def _polymod(values):
    generator = [0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3]
    chk = 1
    for v in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ v
        for i in range(5):
            chk ^= generator[i] if (top >> i) & 1 else 0
    return chk


def age_recipient(public=None):
    """An age X25519 recipient (bech32 "age1..."): BIP 173, written here so
    that the test does not trust the server's own encoder."""
    data = public or os.urandom(32)
    acc, bits, words = 0, 0, []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            words.append((acc >> bits) & 31)
    if bits:
        words.append((acc << (5 - bits)) & 31)
    hrp = "age"
    expanded = [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]
    polymod = _polymod(expanded + words + [0] * 6) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(BECH32[w] for w in words + checksum)


def fingerprint(key):
    digest = hashlib.sha256(key.encode()).digest()
    return "SHA256:" + base64.b64encode(digest).decode().rstrip("=")


TEAM = [age_recipient(), age_recipient()]
PORTAL = "https://portal.example.com"


class LinkTest(ServerTest):
    config_edits = {"keys.recipients": json.dumps(TEAM),
                    "cors.allowed_origins": json.dumps([PORTAL])}

    def create(self, expect=201, ref=None, **body):
        status, _, data = self.server.request("POST", f"/api/v1/tickets/{ref or self.ref}/links",
                                              body, self.server.technician_token)
        self.assertEqual(status, expect, data)
        return json.loads(data)

    def link_info(self, token, headers=None):
        status, h, data = self.server.request("GET", "/api/v1/link", token=token, headers=headers)
        return status, h, json.loads(data) if data else None

    def used_bytes(self, token):
        status, _, info = self.link_info(token)
        self.assertEqual(status, 200, info)
        return info["used_bytes"]

    def create_deferred(self, token):
        status, headers, body = self.tus("POST", "/api/v1/uploads", token,
                                         {"Upload-Defer-Length": "1",
                                          "Upload-Metadata": metadata(filename="drop.age")})
        self.assertEqual(status, 201, body)
        return headers["location"]

    def offset(self, token, location):
        status, headers, _ = self.tus("HEAD", location, token)
        self.assertEqual(status, 200)
        return int(headers["upload-offset"])


class Recipients(LinkTest):
    def test_a_link_encrypts_to_the_team_by_default(self):
        link = self.create()
        self.assertEqual((link["mode"], link["recipients"]), ("recipients", TEAM))
        # The token travels in the fragment only: never in a request line,
        # a Referer or an access log.
        port = self.server.port
        match = re.fullmatch(rf"https://localhost:{port}/drop#(vsl_[a-z0-9]+)", link["drop_url"])
        self.assertIsNotNone(match, link["drop_url"])
        self.assertEqual(match.group(1), link["token"])
        self.assertNotIn(link["token"], link["drop_url"].split("#")[0])
        listed = self.server.api("GET", f"/api/v1/tickets/{self.ref}/links", expect=200)
        self.assertEqual([(x["id"], x["mode"], x["recipients"]) for x in listed],
                         [(link["id"], "recipients", TEAM)])
        self.assertNotIn(link["token"], json.dumps(listed))
        created = [r for r in self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200)
                   if r["action"] == "link.created"]
        self.assertEqual(created[-1]["detail"]["recipients"], TEAM)

    def test_a_link_may_narrow_or_name_its_own_keys(self):
        own = age_recipient()
        # Written in capitals (age accepts them), repeated: kept once, as age-keygen prints it.
        link = self.create(recipients=[own.upper(), TEAM[0], own])
        self.assertEqual(link["recipients"], [own, TEAM[0]])
        status, _, info = self.link_info(link["token"])
        self.assertEqual(status, 200, info)
        self.assertEqual(info["recipients"], [{"key": own, "fingerprint": fingerprint(own)},
                                              {"key": TEAM[0], "fingerprint": fingerprint(TEAM[0])}])

    def test_recipients_are_checked(self):
        good = age_recipient()
        broken = good[:-1] + ("q" if good[-1] != "q" else "p")  # bech32 checksum fails
        for bad in (["age1notakey"], [broken], "age1...", [good, 7],
                    [age_recipient() for _ in range(33)], ["AGE-SECRET-KEY-1QQQ"]):
            with self.subTest(recipients=bad):
                error = self.create(expect=400, recipients=bad)
                self.assertEqual(error["error"], "bad_request")
                self.assertIn("recipients must be a list of at most 32 age public keys",
                              error["message"])
        self.assertEqual(len(self.create(recipients=[age_recipient() for _ in range(32)])
                             ["recipients"]), 32)

    def test_passphrase_mode_stores_no_recipients(self):
        link = self.create(mode="passphrase")
        self.assertEqual((link["mode"], link["recipients"]), ("passphrase", []))
        status, _, info = self.link_info(link["token"])
        self.assertEqual((info["mode"], info["recipients"]), ("passphrase", []))
        error = self.create(expect=400, mode="passphrase", recipients=[TEAM[0]])
        self.assertIn("passphrase link takes no recipients", error["message"])
        for mode in ("Passphrase", "", 1, True):
            with self.subTest(mode=mode):
                self.assertEqual(self.create(expect=400, mode=mode)["error"], "bad_request")

    def test_numbers_are_range_checked(self):
        for body in ({"expires_in_s": 0}, {"expires_in_s": 7776001}, {"expires_in_s": 1.5},
                     {"expires_in_s": "60"}, {"max_bytes": 0}, {"max_bytes": 2 ** 63},
                     {"max_bytes": 1e3}, {"max_bytes": True}):
            with self.subTest(body=body):
                error = self.create(expect=400, **body)
                self.assertRegex(error["message"], r"(expires_in_s|max_bytes) must be an integer "
                                                   r"from 1 to \d+")


class NoTeamKeys(LinkTest):
    config_edits = {"keys.recipients": "[]"}

    def test_no_recipients_is_409_with_what_to_do(self):
        for body in ({}, {"recipients": []}, {"mode": "recipients"}):
            with self.subTest(body=body):
                error = self.create(expect=409, **body)
                self.assertEqual(error["error"], "no_recipients")
                self.assertIn("[keys] recipients", error["hint"])
                self.assertIn("--passphrase", error["hint"])
        self.assertEqual(self.create(mode="passphrase")["mode"], "passphrase")
        own = age_recipient()
        self.assertEqual(self.create(recipients=[own])["recipients"], [own])


class LinkInfo(LinkTest):
    def test_the_holder_sees_its_ticket_keys_budget_and_expiry(self):
        link = self.create(max_bytes=5000, expires_in_s=3600)
        status, headers, info = self.link_info(link["token"])
        self.assertEqual(status, 200, info)
        self.assertEqual(set(info), {"id", "ticket", "mode", "recipients", "max_bytes", "used_bytes",
                                     "expires_at", "upload_url", "max_upload_bytes"})
        self.assertEqual(info["id"], link["id"])
        self.assertEqual(info["ticket"], {"ref": self.ref, "title": "interop", "status": "open"})
        self.assertEqual(info["recipients"], [{"key": k, "fingerprint": fingerprint(k)} for k in TEAM])
        self.assertEqual((info["max_bytes"], info["used_bytes"]), (5000, 0))
        self.assertEqual(info["expires_at"], link["expires_at"])
        self.assertEqual(info["upload_url"], link["upload_url"])
        self.assertEqual(info["max_upload_bytes"], 64 << 30)
        self.assertEqual(headers["cache-control"], "no-store")
        self.upload(link["token"], age_like(100))
        self.assertEqual(self.used_bytes(link["token"]), 100)

    def test_only_a_link_token_may_ask(self):
        self.assertEqual(self.link_info(None)[0], 401)
        self.assertEqual(self.link_info("vsl_" + "a" * 52)[2]["error"], "unauthorized")
        self.assertEqual(self.link_info(self.server.technician_token)[0], 403)

    def test_cors_as_on_the_tus_routes(self):
        link = self.create()
        status, headers, _ = self.server.request(
            "OPTIONS", "/api/v1/link",
            headers={"Origin": PORTAL, "Access-Control-Request-Method": "GET",
                     "Access-Control-Request-Headers": "authorization"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], PORTAL)
        self.assertIn("Authorization", headers["access-control-allow-headers"])
        status, headers, _ = self.link_info(link["token"], {"Origin": PORTAL})
        self.assertEqual((status, headers["access-control-allow-origin"]), (200, PORTAL))
        self.assertIn("Origin", headers["vary"])
        # Errors too, so that the page can read why.
        status, headers, _ = self.link_info("vsl_nope", {"Origin": PORTAL})
        self.assertEqual((status, headers["access-control-allow-origin"]), (401, PORTAL))
        status, headers, _ = self.link_info(link["token"], {"Origin": "https://evil.example"})
        self.assertNotIn("access-control-allow-origin", headers)
        self.assertNotIn("access-control-allow-credentials", headers)


class Refusals(LinkTest):
    def assert_refused(self, token, status, code):
        got, _, body = self.link_info(token)
        self.assertEqual((got, body["error"]), (status, code), body)
        got, _, data = self.tus("POST", "/api/v1/uploads", token, {"Upload-Length": "100"})
        self.assertEqual((got, json.loads(data)["error"]), (status, code))

    def test_each_dead_link_says_why(self):
        expired = self.create(expires_in_s=1)["token"]
        revoked = self.create()
        self.server.api("DELETE", f"/api/v1/links/{revoked['id']}", expect=204)
        resolved_ref = self.ref + "-r"
        self.server.create_ticket(resolved_ref)
        resolved = self.create(ref=resolved_ref)["token"]
        location = self.create_upload(resolved, 200)
        self.server.api("POST", f"/api/v1/tickets/{resolved_ref}/resolve", expect=200)
        time.sleep(2.2)
        self.assert_refused(expired, 401, "link_expired")
        self.assert_refused(revoked["token"], 401, "link_revoked")
        self.assert_refused(resolved, 409, "ticket_resolved")
        self.assert_refused("vsl_" + "b" * 52, 401, "unauthorized")
        # The tus routes of an upload begun before say the same.
        status, _, data = self.tus("HEAD", location, resolved)
        self.assertEqual(status, 409)
        # Reopening does not bring the link back: resolution revoked it.
        self.server.api("POST", f"/api/v1/tickets/{resolved_ref}/reopen", expect=200)
        self.assert_refused(resolved, 401, "link_revoked")
        # No token in the audit trail.
        trail = json.dumps(self.server.api("GET", f"/api/v1/tickets/{self.ref}/audit", expect=200))
        self.assertNotIn(expired, trail)


class DeferredLength(LinkTest):
    def stored_bytes(self, *locations):
        """Bytes on the server's disk for these uploads."""
        uploads = self.server.data / "uploads"
        return sum((uploads / loc.rsplit("/", 1)[1]).stat().st_size for loc in locations)

    def test_two_uploads_stop_at_the_budget_byte(self):
        token = self.create(max_bytes=3000)["token"]
        a, b = self.create_deferred(token), self.create_deferred(token)
        # Each holds the smallest age file from its creation: a link cannot
        # make uploads without end.
        self.assertEqual(self.used_bytes(token), 2 * 22)
        data_a, data_b = age_like(2500, b"a"), age_like(2500, b"b")
        self.assertEqual(self.patch(token, a, 0, data_a[:1200])[0], 204)
        self.assertEqual(self.patch(token, b, 0, data_b[:1200])[0], 204)
        self.assertEqual(self.used_bytes(token), 2400)
        # 600 bytes left: the PATCH keeps them, then 413 before byte 3001.
        status, headers, body = self.patch(token, a, 1200, data_a[1200:2200])
        self.assertEqual(status, 413, body)
        self.assertEqual(json.loads(body)["error"], "budget_exceeded")
        self.assertEqual(headers["upload-offset"], "1800")
        self.assertEqual(self.offset(token, a), 1800)
        status, headers, body = self.patch(token, b, 1200, data_b[1200:1201])
        self.assertEqual((status, json.loads(body)["error"]), (413, "budget_exceeded"))
        self.assertEqual(self.offset(token, b), 1200)
        self.assertEqual(self.used_bytes(token), 3000)
        self.assertEqual(self.stored_bytes(a, b), 3000)
        self.assertEqual((self.server.data / "uploads" / a.rsplit("/", 1)[1]).read_bytes(),
                         data_a[:1800])
        # What an upload holds can still become a bundle: its final length is its bytes.
        status, headers, body = self.patch(token, a, 1800, b"", {"Upload-Length": "1800"})
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data_a[:1800]).hexdigest())
        self.assertEqual(self.used_bytes(token), 3000)

    def test_the_final_length_settles_the_charge(self):
        token = self.create(max_bytes=10000)["token"]
        data = age_like(800)
        location = self.create_deferred(token)
        self.assertEqual(self.patch(token, location, 0, data[:500])[0], 204)
        self.assertEqual(self.used_bytes(token), 500)
        status, headers, body = self.patch(token, location, 500, data[500:], {"Upload-Length": "800"})
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())
        self.assertEqual(self.used_bytes(token), 800)
        # A final length the budget cannot hold is refused, and the bytes stay.
        token = self.create(max_bytes=1000)["token"]
        location = self.create_deferred(token)
        self.assertEqual(self.patch(token, location, 0, data[:400])[0], 204)
        status, _, body = self.patch(token, location, 400, data[400:], {"Upload-Length": "1200"})
        self.assertEqual((status, json.loads(body)["error"]), (413, "budget_exceeded"))
        self.assertEqual((self.offset(token, location), self.used_bytes(token)), (400, 400))

    def test_creation_with_upload_is_charged_too(self):
        token = self.create(max_bytes=1000)["token"]
        data = age_like(1500)
        status, headers, body = self.tus("POST", "/api/v1/uploads", token,
                                         {"Upload-Defer-Length": "1",
                                          "Content-Type": "application/offset+octet-stream"}, data)
        self.assertEqual((status, json.loads(body)["error"]), (413, "budget_exceeded"))
        self.assertEqual(headers["upload-offset"], "1000")
        self.assertEqual(self.used_bytes(token), 1000)

    def test_a_spent_link_cannot_make_more_uploads(self):
        token = self.create(max_bytes=50)["token"]
        self.create_deferred(token)
        self.create_deferred(token)
        status, _, body = self.tus("POST", "/api/v1/uploads", token, {"Upload-Defer-Length": "1"})
        self.assertEqual((status, json.loads(body)["error"]), (413, "budget_exceeded"))
        self.assertEqual(self.used_bytes(token), 44)

    def test_concurrent_uploads_never_pass_the_budget_together(self):
        budget = 24 << 20
        token = self.create(max_bytes=budget)["token"]
        locations = [self.create_deferred(token) for _ in range(3)]
        results = [None] * 3

        def send(i):
            try:
                results[i] = self.patch(token, locations[i], 0, age_like(12 << 20, bytes([i])))[0]
            except OSError:  # answered 413 and closed while the body was still going out
                results[i] = "closed"

        threads = [threading.Thread(target=send, args=(i,)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertTrue(set(results) & {413, "closed"}, results)
        offsets = [self.offset(token, loc) for loc in locations]
        self.assertLessEqual(sum(offsets), budget)
        self.assertEqual(self.used_bytes(token), sum(offsets))
        self.assertLessEqual(self.stored_bytes(*locations), budget)

    def test_a_technician_patching_a_link_upload_spends_the_links_budget(self):
        token = self.create(max_bytes=500)["token"]
        location = self.create_deferred(token)
        status, headers, _ = self.patch(self.server.technician_token, location, 0, age_like(800))
        self.assertEqual((status, headers["upload-offset"]), (413, "500"))
        self.assertEqual(self.used_bytes(token), 500)


class InitRecipients(unittest.TestCase):
    def test_init_writes_the_team_keys_and_refuses_a_bad_one(self):
        binary = os.environ["VALISE_SERVER_BIN"]
        with tempfile.TemporaryDirectory(prefix="valise-init-keys-") as tmp:
            keys = [age_recipient(), age_recipient()]
            data = Path(tmp) / "ok"
            out = subprocess.run([binary, "init", "--data", str(data), "--recipient", keys[0],
                                  "--recipient", keys[1].upper()], capture_output=True, text=True,
                                 timeout=60)
            self.assertEqual(out.returncode, 0, out.stderr)
            config = (data / "server.toml").read_text()
            self.assertIn(f'[keys]\n', config)
            self.assertIn(f'recipients = ["{keys[0]}", "{keys[1]}"]\n', config)
            self.assertIn("valise-server init --recipient", config)
            bad = Path(tmp) / "bad"
            out = subprocess.run([binary, "init", "--data", str(bad), "--recipient", "age1oops"],
                                 capture_output=True, text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn("--recipient age1oops is not an age public key", out.stderr)
            self.assertFalse((bad / "server.toml").exists())
            # A bad key in server.toml stops `run` with the line to fix.
            text = config.replace(keys[0], "age1oops")
            (data / "server.toml").write_text(text)
            out = subprocess.run([binary, "run", "--data", str(data)], capture_output=True,
                                 text=True, timeout=60)
            self.assertNotEqual(out.returncode, 0)
            self.assertIn('keys.recipients: "age1oops" is not an age public key', out.stderr)


if __name__ == "__main__":
    unittest.main()
