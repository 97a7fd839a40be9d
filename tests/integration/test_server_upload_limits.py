"""What uploads may cost the real valise-server (issue 13): a checksummed PATCH
cut by a crash keeps nothing, a deferred Upload-Length below the offset is
named, a technician token's byte budget, the disk's free-space reserve (room
for a checksummed body twice: scratch file and merge), a merge that leaves
other connections served, and agents' uploads (one per request, within the
agent's declared cap). Python 3
standard library only; VALISE_SERVER_BIN names the binary (ctest sets it)."""
import base64
import hashlib
import json
import os
import ssl
import sys
import tempfile
import threading
import time
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "interop"))
sys.path.insert(0, str(HERE))
import test_server_agents as agents  # noqa: E402
import test_server_api as api  # noqa: E402
from test_server_api import age_like, metadata, restart  # noqa: E402

MIB = 1024 * 1024


def checksum(data):
    return "sha256 " + base64.b64encode(hashlib.sha256(data).digest()).decode()


def early_answer(raw):
    """What the server sent so far on a TLS socket, without waiting (a session
    ticket alone makes the socket readable, with nothing for us)."""
    timeout = raw.gettimeout()
    raw.setblocking(False)
    try:
        return raw.recv(65536)
    except (ssl.SSLWantReadError, BlockingIOError):
        return b""
    finally:
        raw.settimeout(timeout)


def send_patch(raw, token, location, offset, blocks, headers):
    """A PATCH of `blocks` (byte strings) on a raw TLS socket, sent a block at
    a time until the server answers, which it may do before the body ends.
    Returns (status, time the last byte went or the answer came, answer)."""
    size = sum(len(b) for b in blocks)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw.sendall((f"PATCH {location} HTTP/1.1\r\nHost: localhost\r\n"
                 f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
                 f"Content-Type: application/offset+octet-stream\r\n"
                 f"Upload-Offset: {offset}\r\n{extra}Content-Length: {size}\r\n\r\n").encode())
    answer = b""
    for block in blocks:
        answer = early_answer(raw)
        if answer:
            break
        try:
            raw.sendall(block)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            # The server answered early and closed after draining a while
            # (connection.cpp's drain): its answer waits in our buffer.
            break
    sent_at = time.monotonic()
    while b"\r\n\r\n" not in answer:
        try:
            chunk = raw.recv(65536)
        except (ConnectionResetError, ssl.SSLError):
            break
        if not chunk:
            break
        answer += chunk
    head, _, rest = answer.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    found = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    length = int(found.get("content-length", "0"))
    while len(rest) < length:
        chunk = raw.recv(65536)
        if not chunk:
            break
        rest += chunk
    return int(lines[0].split()[1]), found, rest, sent_at


class LimitsTest(api.ServerTest):
    """ServerTest with the raw-socket helpers of the Uploads tests."""
    raw_connection = api.Uploads.raw_connection

    def new_technician(self):
        """A technician token of its own, so budgets do not mix between tests."""
        name = f"t{time.monotonic_ns()}"
        return self.server.command("token", "create", "--data", str(self.server.data),
                                   "--role", "technician", "--name", name).strip()

    def create(self, token, headers, **meta):
        return self.tus("POST", "/api/v1/uploads", token,
                        {"Upload-Metadata": metadata(ticket=self.ref, **meta), **headers})

    def error_of(self, body):
        return json.loads(body)


class ChecksumCrash(LimitsTest):
    def test_a_checksummed_patch_cut_by_kill_9_keeps_nothing_of_it(self):
        link = self.link_token()
        data = age_like(4 * MIB)
        location = self.create_upload(link, len(data), filename="crash.age")
        before = 256 * 1024
        status, _, body = self.patch(link, location, 0, data[:before])
        self.assertEqual(status, 204, body)
        rest = data[before:]
        raw = self.raw_connection()
        raw.sendall((f"PATCH {location} HTTP/1.1\r\nHost: localhost\r\n"
                     f"Authorization: Bearer {link}\r\nTus-Resumable: 1.0.0\r\n"
                     f"Content-Type: application/offset+octet-stream\r\n"
                     f"Upload-Offset: {before}\r\nUpload-Checksum: {checksum(rest)}\r\n"
                     f"Content-Length: {len(rest)}\r\n\r\n").encode() + rest[:2 * MIB])
        time.sleep(1)  # the server reads and writes what was sent
        self.server.process.kill()
        self.server.process.wait()
        raw.close()
        restart(self.server)
        status, headers, _ = self.tus("HEAD", location, link)
        self.assertEqual((status, headers["upload-offset"]), (200, str(before)))
        leftovers = sorted(p.name for p in (self.server.data / "uploads").iterdir())
        self.assertEqual(leftovers, [location.rsplit("/", 1)[1]])
        status, headers, body = self.patch(link, location, before, rest,
                                           {"Upload-Checksum": checksum(rest)})
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())

    def test_a_checksummed_patch_is_appended_only_when_it_matches(self):
        link = self.link_token()
        data = age_like(600 * 1024)
        location = self.create_upload(link, len(data))
        status, _, _ = self.patch(link, location, 0, data[:1000], {"Upload-Checksum": checksum(b"x")})
        self.assertEqual(status, 460)
        status, headers, _ = self.tus("HEAD", location, link)
        self.assertEqual(headers["upload-offset"], "0")
        status, _, body = self.patch(link, location, 0, data[:300 * 1024],
                                     {"Upload-Checksum": checksum(data[:300 * 1024])})
        self.assertEqual(status, 204, body)
        status, headers, body = self.patch(link, location, 300 * 1024, data[300 * 1024:])
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())


class DeferredLength(LimitsTest):
    def test_a_length_below_the_offset_is_named_as_such(self):
        token = self.server.technician_token
        status, headers, body = self.create(token, {"Upload-Defer-Length": "1"})
        self.assertEqual(status, 201, body)
        location = headers["location"]
        status, _, body = self.patch(token, location, 0, age_like(1000))
        self.assertEqual(status, 204, body)
        status, _, body = self.patch(token, location, 1000, b"", {"Upload-Length": "500"})
        answer = self.error_of(body)
        self.assertEqual((status, answer["error"]), (400, "bad_request"), answer)
        self.assertIn("less than the 1000 bytes", answer["message"])
        self.assertIn("hint", answer)


class TechnicianBudget(LimitsTest):
    config_edits = {"uploads.technician_max_bytes": "10000"}

    def test_a_token_holds_at_most_its_budget(self):
        token = self.new_technician()
        first = self.create(token, {"Upload-Length": "6000"})
        self.assertEqual(first[0], 201, first[2])
        status, _, body = self.create(token, {"Upload-Length": "6000"})
        answer = self.error_of(body)
        self.assertEqual((status, answer["error"]), (413, "quota_exceeded"), answer)
        self.assertIn("10000 bytes", answer["message"])
        self.assertIn("uploads.technician_max_bytes", answer["hint"])
        # A stored bundle counts too; deleting it frees the budget.
        status, headers, body = self.patch(token, first[1]["location"], 0, age_like(6000))
        self.assertEqual(status, 204, body)
        self.assertEqual(self.create(token, {"Upload-Length": "6000"})[0], 413)
        self.assertEqual(self.create(self.new_technician(), {"Upload-Length": "6000"})[0], 201)
        self.server.api("DELETE", f"/api/v1/bundles/{headers['valise-bundle-id']}", expect=200)
        self.assertEqual(self.create(token, {"Upload-Length": "6000"})[0], 201)

    def test_a_deferred_upload_counts_as_its_cap_and_stops_there(self):
        token = self.new_technician()
        status, headers, body = self.create(token, {"Upload-Defer-Length": "1"})
        self.assertEqual(status, 201, body)
        location = headers["location"]
        self.assertEqual(self.create(token, {"Upload-Length": "100"})[0], 413)
        status, _, body = self.patch(token, location, 0, age_like(10001))
        self.assertEqual(status, 413, body)
        status, _, body = self.patch(token, location, 0, age_like(500))
        self.assertEqual(status, 204, body)
        status, _, body = self.patch(token, location, 500, b"", {"Upload-Length": "10001"})
        self.assertEqual(status, 413, body)
        self.assertEqual(self.tus("DELETE", location, token)[0], 204)
        self.assertEqual(self.create(token, {"Upload-Length": "100"})[0], 201)


class DiskFull(LimitsTest):
    config_edits = {"uploads.min_free_bytes": str(1 << 60)}

    def test_new_uploads_are_refused_under_the_reserve(self):
        for headers in ({"Upload-Length": "1000"}, {"Upload-Defer-Length": "1"}):
            status, _, body = self.create(self.server.technician_token, headers)
            answer = self.error_of(body)
            self.assertEqual((status, answer["error"]), (507, "storage_full"), answer)
            self.assertIn("uploads.min_free_bytes", answer["message"])
        self.assertEqual(list((self.server.data / "uploads").iterdir()), [])


class DiskReserve(LimitsTest):
    """The reserve sits 2 GiB under the disk's free space; the test then
    takes 6 GiB with a fallocated file to cross it (no bytes written)."""
    margin = 2 << 30

    @classmethod
    def setUpClass(cls):
        free = os.statvfs(tempfile.gettempdir())
        cls.config_edits = {"uploads.min_free_bytes":
                            str(free.f_bavail * free.f_frsize - cls.margin)}
        super().setUpClass()

    def test_an_upload_stops_at_the_reserve_and_keeps_its_bytes(self):
        token = self.server.technician_token
        data = age_like(2 * MIB)
        status, headers, body = self.create(token, {"Upload-Length": str(len(data))})
        self.assertEqual(status, 201, body)
        location = headers["location"]
        status, _, body = self.patch(token, location, 0, data[:MIB])
        self.assertEqual(status, 204, body)
        filler = self.server.data / "filler"
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, 3 * self.margin)
        try:
            status, headers, body = self.patch(token, location, MIB, data[MIB:MIB + 100_000])
            answer = self.error_of(body)
            self.assertEqual((status, answer["error"]), (507, "storage_full"), answer)
            self.assertEqual(headers["upload-offset"], str(MIB))
            self.assertIn("uploads.min_free_bytes", answer["hint"])
            status, headers, _ = self.tus("HEAD", location, token)
            self.assertEqual(headers["upload-offset"], str(MIB))
        finally:
            filler.unlink()
        status, headers, body = self.patch(token, location, MIB, data[MIB:])
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())

    def test_a_checksummed_patch_needs_room_for_its_copy_too(self):
        """A checksummed body is stored twice for a while: in its scratch file,
        then appended to the upload. Room above the reserve for the first copy
        only is a 507, and the upload keeps the offset it had."""
        token = self.server.technician_token
        body = 64 * MIB
        data = age_like(MIB + body)
        status, headers, answer = self.create(token, {"Upload-Length": str(len(data))})
        self.assertEqual(status, 201, answer)
        location = headers["location"]
        status, _, answer = self.patch(token, location, 0, data[:MIB])
        self.assertEqual(status, 204, answer)
        rest = data[MIB:]
        filler = self.server.data / "filler-merge"
        free = os.statvfs(self.server.data)
        reserve = int(self.config_edits["uploads.min_free_bytes"])
        room = body * 3 // 2  # the scratch fits, scratch and merge do not
        with open(filler, "wb") as f:
            os.posix_fallocate(f.fileno(), 0, free.f_bavail * free.f_frsize - reserve - room)
        try:
            raw = self.raw_connection()
            blocks = [rest[i:i + MIB] for i in range(0, len(rest), MIB)]
            status, headers, answer, _ = send_patch(raw, token, location, MIB, blocks,
                                                    {"Upload-Checksum": checksum(rest)})
            raw.close()
            self.assertEqual(status, 507, answer)
            self.assertEqual(self.error_of(answer)["error"], "storage_full", answer)
            self.assertEqual(headers["upload-offset"], str(MIB))
            status, headers, _ = self.tus("HEAD", location, token)
            self.assertEqual(headers["upload-offset"], str(MIB))
        finally:
            filler.unlink()
        status, headers, answer = self.patch(token, location, MIB, rest,
                                             {"Upload-Checksum": checksum(rest)})
        self.assertEqual(status, 204, answer)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())


class MergeInBackground(LimitsTest):
    """One thread serves every connection: a checksummed PATCH's merge (a
    copy of its whole body, then the fsync of the upload) must not stop it."""
    config_edits = {"server.threads": "1"}

    def test_other_requests_are_answered_while_a_large_patch_merges(self):
        token = self.server.technician_token
        first = age_like(MIB)
        filler = hashlib.sha256(b"filler").digest() * (MIB // 32)
        blocks = [first] + [filler] * 511
        digest = hashlib.sha256()
        for block in blocks:
            digest.update(block)
        size = len(blocks) * MIB
        status, headers, answer = self.create(token, {"Upload-Length": str(size)})
        self.assertEqual(status, 201, answer)
        location = headers["location"]

        samples = []  # (started, seconds) of each /healthz on its own connection
        stop = threading.Event()

        def poll():
            while not stop.is_set():
                started = time.monotonic()
                status = self.server.request("GET", "/healthz", timeout=120)[0]
                samples.append((started, time.monotonic() - started, status))
                time.sleep(0.01)

        poller = threading.Thread(target=poll)
        poller.start()
        try:
            raw = self.raw_connection()
            raw.settimeout(300)
            checksum_header = "sha256 " + base64.b64encode(digest.digest()).decode()
            status, _, answer, sent_at = send_patch(raw, token, location, 0, blocks,
                                                    {"Upload-Checksum": checksum_header})
            answered_at = time.monotonic()
            raw.close()
        finally:
            time.sleep(0.2)
            stop.set()
            poller.join()
        self.assertEqual(status, 204, answer)
        # Between the last byte and the answer the server drains, checks the
        # digest, merges and syncs; /healthz asked meanwhile is answered in a
        # fraction of that time, not after it.
        during = [(t, d) for t, d, st in samples if sent_at <= t < answered_at]
        self.assertTrue(during, "no /healthz was asked while the PATCH merged")
        self.assertTrue(all(st == 200 for _, _, st in samples))
        merge = answered_at - sent_at
        slowest = max(d for _, d in during)
        self.assertLess(slowest, merge / 4,
                        f"slowest /healthz {slowest:.3f}s during a {merge:.3f}s merge "
                        f"({len(during)} asked)")


class AgentUploadLimits(agents.AgentTest):
    config_edits = {"uploads.agent_max_bytes": "100000"}

    def create(self, agent, request_id, headers):
        return agent.tus("POST", "/api/v1/uploads",
                         {"Upload-Metadata": metadata(request=request_id), **headers})

    def heartbeat(self, agent, **facts):
        status, _, answer = agent.request("POST", "/api/v1/agent/heartbeat",
                                          {"hostname": "db1", **facts})
        self.assertEqual(status, 200, answer)

    def test_an_agent_that_declares_no_cap_gets_the_servers(self):
        agent = self.agent()
        r = self.ask(agent)
        status, _, answer = self.create(agent, r["id"], {"Upload-Length": "100001"})
        self.assertEqual((status, answer["error"]), (413, "too_large"), answer)
        self.assertIn("uploads.agent_max_bytes", answer["message"])
        self.assertEqual(self.create(agent, r["id"], {"Upload-Length": "100000"})[0], 201)

    def test_an_agent_upload_stays_within_its_declared_cap(self):
        agent = self.agent()
        self.heartbeat(agent, max_upload_bytes=5000)
        shown = self.server.api("GET", f"/api/v1/agents/{agent.id}", expect=200)
        self.assertEqual(shown["max_upload_bytes"], 5000)
        r = self.ask(agent)
        status, _, answer = self.create(agent, r["id"], {"Upload-Length": "5001"})
        self.assertEqual((status, answer["error"]), (413, "too_large"), answer)
        self.assertIn("spool_max_bytes", answer["message"])
        # Deferred: the body stops at the cap.
        status, headers, _ = self.create(agent, r["id"], {"Upload-Defer-Length": "1"})
        self.assertEqual(status, 201)
        status, _, _ = agent.tus("PATCH", headers["location"],
                                 {"Content-Type": "application/offset+octet-stream",
                                  "Upload-Offset": "0"}, age_like(5001))
        self.assertEqual(status, 413)
        status, _, answer = agent.request("POST", "/api/v1/agent/heartbeat",
                                          {"max_upload_bytes": -1})
        self.assertEqual(status, 400, answer)

    def test_a_new_upload_for_a_request_replaces_the_unfinished_one(self):
        agent = self.agent()
        r = self.ask(agent)
        data = age_like(50_000)
        status, headers, _ = self.create(agent, r["id"], {"Upload-Length": str(len(data))})
        self.assertEqual(status, 201)
        first = headers["location"]
        status, _, _ = agent.tus("PATCH", first,
                                 {"Content-Type": "application/offset+octet-stream",
                                  "Upload-Offset": "0"}, data[:20_000])
        self.assertEqual(status, 204)
        status, headers, _ = self.create(agent, r["id"], {"Upload-Length": str(len(data))})
        self.assertEqual(status, 201)
        second = headers["location"]
        self.assertEqual(agent.tus("HEAD", first)[0], 404)
        files = {p.name for p in (self.server.data / "uploads").iterdir()}
        self.assertNotIn(first.rsplit("/", 1)[1], files)
        replaced = [a for a in self.audit() if a["action"] == "upload.replaced"]
        self.assertEqual(replaced[-1]["detail"]["upload"], first.rsplit("/", 1)[1])
        status, headers, _ = agent.tus("PATCH", second,
                                       {"Content-Type": "application/offset+octet-stream",
                                        "Upload-Offset": "0"}, data)
        self.assertEqual(status, 204)
        self.assertEqual(headers["valise-bundle-sha256"], hashlib.sha256(data).hexdigest())


if __name__ == "__main__":
    unittest.main()
