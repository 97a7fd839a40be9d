"""Uploads across two valise-server nodes behind HAProxy (docs/cluster.md):
one PATCH per upload across nodes, the running SHA-256 on a node that did
not see the previous bytes, a node killed or stopped in the middle of an
upload, a purge through either node, the client's address through the PROXY
protocol. Run by ctest with the `postgresql` fixture (tests/cluster/CMakeLists.txt)."""
import hashlib
import http.client
import json
import signal
import ssl
import tempfile
import time
import unittest

from cluster import Cluster, StreamingPatch, age_like, create_upload, offset_of, patch, psql

MiB = 1 << 20


class ClusterTest(unittest.TestCase):
    """One cluster (two nodes and HAProxy) per test class."""
    config_edits = {}

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="valise-cluster-")
        cls.cluster = Cluster(cls.tmp.name, cls.config_edits)
        try:
            cls.cluster.start()
        except BaseException:
            cls.cluster.stop()
            cls.tmp.cleanup()
            raise
        cls.a, cls.b = cls.cluster.a, cls.cluster.b

    @classmethod
    def tearDownClass(cls):
        cls.cluster.stop()
        cls.tmp.cleanup()

    def ticket_and_link(self, ref):
        self.a.create_ticket(ref)
        return self.a.create_link(ref, max_bytes=1 << 30)["token"]

    def direct(self, node, timeout=60):
        return http.client.HTTPSConnection("127.0.0.1", node.port, timeout=timeout,
                                           context=ssl.create_default_context(cafile=str(node.ca)))

    def bundles(self, node, ref):
        return node.api("GET", f"/api/v1/tickets/{ref}/bundles", expect=200)

    def wait_until(self, condition, what, timeout=20):
        deadline = time.monotonic() + timeout
        while not condition():
            self.assertLess(time.monotonic(), deadline, f"timed out waiting for {what}")
            time.sleep(0.05)

    def file_size(self, path):
        upload_id = path.rsplit("/", 1)[1]
        try:
            return (self.a.data / "uploads" / upload_id).stat().st_size
        except FileNotFoundError:
            return 0

    def settled_size(self, path):
        """The partial upload's size once it stayed the same for a second."""
        size, since = self.file_size(path), time.monotonic()
        while time.monotonic() - since < 1:
            time.sleep(0.1)
            now = self.file_size(path)
            if now != size:
                size, since = now, time.monotonic()
        return size

    def assert_one_bundle(self, ref, data, headers):
        """The upload's last PATCH answered with its bundle; each node lists
        it alone, with the SHA-256 of `data`, and its file holds `data`."""
        sha = hashlib.sha256(data).hexdigest()
        self.assertEqual(headers.get("valise-bundle-sha256"), sha)
        for node in (self.a, self.b):
            if node.process.poll() is not None:
                continue
            listed = self.bundles(node, ref)
            self.assertEqual([(b["size"], b["sha256"]) for b in listed], [(len(data), sha)])
        bundle_file = self.a.data / "bundles" / headers["valise-bundle-id"]
        with open(bundle_file, "rb") as f:
            self.assertEqual(hashlib.file_digest(f, "sha256").hexdigest(), sha)


class OnePatchAcrossNodes(ClusterTest):
    def test_a_second_patch_on_the_other_node_is_locked(self):
        token = self.ticket_and_link("CL-LOCK")
        data = age_like(8 * MiB, b"lock")
        path = create_upload(self.a.request, token, len(data))
        conn = self.direct(self.a)
        try:
            streaming = StreamingPatch(conn, token, path, 0, len(data))
            streaming.send(data[:2 * MiB])
            self.wait_until(lambda: self.file_size(path) >= MiB, "node A to write")
            self.assertEqual(self.cluster.node_holding(path.rsplit("/", 1)[1]), [self.a])
            # Node A's PATCH is open and quiet (what it wrote no longer
            # grows): node B may not append meanwhile.
            at = self.settled_size(path)
            self.assertEqual(offset_of(self.b.request, token, path), at)
            status, _, body = patch(self.b.request, token, path, at, data[at:at + MiB])
            self.assertEqual(status, 423, body)
            self.assertEqual(self.file_size(path), at)
            streaming.send(data[2 * MiB:])
            status, headers, body = streaming.finish()
        finally:
            conn.close()
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-LOCK", data, headers)

    def test_the_lock_goes_with_the_patch(self):
        token = self.ticket_and_link("CL-FREE")
        data = age_like(2 * MiB, b"free")
        path = create_upload(self.a.request, token, len(data))
        self.assertEqual(patch(self.a.request, token, path, 0, data[:MiB])[0], 204)
        # A's lease ended with its PATCH: B takes the upload at once.
        status, headers, body = patch(self.b.request, token, path, MiB, data[MiB:])
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-FREE", data, headers)

    def test_halves_through_a_and_b_alternately_hash_right(self):
        # Each node's running SHA-256 is behind the file whenever the other
        # node wrote last: it catches up from the file, no byte twice or missed.
        token = self.ticket_and_link("CL-HASH")
        data = age_like(6 * MiB + 12345, b"hash")
        path = create_upload(self.b.request, token, len(data))
        cuts = [0, MiB + 7, 2 * MiB, 3 * MiB + 1, 4 * MiB + 99, 5 * MiB, len(data)]
        headers = {}
        for i, (start, end) in enumerate(zip(cuts, cuts[1:])):
            node = (self.a, self.b)[i % 2]
            self.assertEqual(offset_of(node.request, token, path), start)
            status, headers, body = patch(node.request, token, path, start, data[start:end])
            self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-HASH", data, headers)


class LockSessionEnded(ClusterTest):
    # Node A's upload locks live on one database session (application_name
    # valise-upload-locks). Ended while A's PATCH streams, it takes the lock
    # with it: node B may then take the upload, so A's PATCH completes it
    # only if A can take the lock back, and then with the hash of the file
    # as it is (it used to complete under no lock, whatever B did).
    # With a timeout, pg_terminate_backend returns once the session's
    # process is gone, and its locks with it: without one it returns when
    # the signal is sent, and node B could still find the lock taken.
    END_A_LOCKS = ("SELECT pg_terminate_backend(a.pid, 10000) FROM pg_stat_activity a "
                   "WHERE a.datname = current_database() "
                   "AND a.application_name = 'valise-upload-locks' "
                   "AND EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid "
                   "AND l.locktype = 'advisory')")

    def end_a_locks_mid_patch(self, ref, data):
        """A PATCH streams to A, then A's locks session is ended: (token,
        path, the open PATCH, its connection, the offset it had reached)."""
        token = self.ticket_and_link(ref)
        path = create_upload(self.a.request, token, len(data))
        conn = self.direct(self.a)
        streaming = StreamingPatch(conn, token, path, 0, len(data))
        streaming.send(data[:2 * MiB])
        self.wait_until(lambda: self.file_size(path) >= MiB, "node A to write")
        at = self.settled_size(path)
        status, _, body = patch(self.b.request, token, path, at, b"")
        self.assertEqual(status, 423, body)  # A holds it
        # Only A's locks session holds an advisory lock of the upload kind
        # (the leader's is on a session of another name).
        self.assertEqual(psql(self.a.database_url, self.END_A_LOCKS).split(), ["t"])
        return token, path, streaming, conn, at

    def test_a_lock_nobody_took_is_taken_back_and_the_patch_completes_once(self):
        data = age_like(8 * MiB, b"session")
        token, path, streaming, conn, at = self.end_a_locks_mid_patch("CL-SESSION", data)
        try:
            # B takes the upload and lets it go (a PATCH of no bytes).
            status, _, body = patch(self.b.request, token, path, at, b"")
            self.assertEqual(status, 204, body)
            streaming.send(data[2 * MiB:])
            status, headers, body = streaming.finish()
        finally:
            conn.close()
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-SESSION", data, headers)
        # Node A's locks work again on a new session.
        token = self.ticket_and_link("CL-SESSION-2")
        small = age_like(MiB, b"again")
        path = create_upload(self.a.request, token, len(small))
        status, headers, body = patch(self.a.request, token, path, 0, small)
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-SESSION-2", small, headers)

    def test_a_lock_another_node_holds_leaves_the_upload_to_it(self):
        data = age_like(8 * MiB, b"elsewhere")
        token, path, streaming, conn, at = self.end_a_locks_mid_patch("CL-ELSEWHERE", data)
        conn_b = self.direct(self.b)
        try:
            # B's PATCH takes the lock and waits for its body.
            StreamingPatch(conn_b, token, path, at, len(data) - at)
            self.wait_until(lambda: self.cluster.upload_locks_held() == 1,
                            "node B to take the upload's lock")
            streaming.send(data[2 * MiB:])
            status, headers, body = streaming.finish()
        finally:
            conn.close()
            conn_b.close()  # B's PATCH ends without a byte
        self.assertEqual(status, 423, body)
        self.assertNotIn("valise-bundle-id", headers)
        self.assertEqual(self.bundles(self.b, "CL-ELSEWHERE"), [])
        # The bytes are in the file: a PATCH of none at the end completes
        # the upload, with the hash caught up from the file.
        self.wait_until(lambda: self.cluster.upload_locks_held() == 0,
                        "node B to let the upload go")
        at = offset_of(self.b.request, token, path)
        self.assertEqual(at, len(data))
        status, headers, body = patch(self.b.request, token, path, at, b"")
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-ELSEWHERE", data, headers)


class NodeKilledMidUpload(ClusterTest):
    def test_the_client_finishes_through_the_other_node(self):
        token = self.ticket_and_link("CL-KILL")
        data = age_like(200 * MiB, b"kill")
        path = create_upload(self.cluster.request, token, len(data))
        upload_id = path.rsplit("/", 1)[1]
        conn = self.cluster.connect(timeout=60)
        sent = 0
        try:
            streaming = StreamingPatch(conn, token, path, 0, len(data))
            while sent < 48 * MiB:
                streaming.send(data[sent:sent + MiB])
                sent += MiB
            self.wait_until(lambda: self.file_size(path) >= 32 * MiB, "node A to write")
            # The PATCH streams to node A (`balance first`): its process has the file open.
            self.assertEqual(self.cluster.node_holding(upload_id), [self.a])
            self.a.process.send_signal(signal.SIGKILL)
            self.a.process.wait(20)
            with self.assertRaises((OSError, http.client.HTTPException)):
                while sent < len(data):
                    streaming.send(data[sent:sent + MiB])
                    sent += MiB
                streaming.finish()
        finally:
            conn.close()
        self.cluster.kill(self.a)  # gone already: waits for HAProxy to send to B
        # As a tus client resumes: HEAD, then PATCH from the offset, through HAProxy.
        at = offset_of(self.cluster.request, token, path)
        self.assertGreaterEqual(at, 32 * MiB)
        self.assertLess(at, len(data))
        status, headers, body = patch(self.cluster.request, token, path, at, memoryview(data)[at:])
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-KILL", data, headers)
        self.assertEqual(list((self.b.data / "uploads").iterdir()), [])


class NodeStopped(ClusterTest):
    def test_nothing_is_lost_and_the_upload_resumes_on_the_other_node(self):
        before = {}
        for i in range(3):
            ref = f"CL-BEFORE-{i}"
            token = self.ticket_and_link(ref)
            small = age_like(1000 + i, bytes([i]))
            path = create_upload(self.cluster.request, token, len(small))
            status, headers, _ = patch(self.cluster.request, token, path, 0, small)
            self.assertEqual(status, 204)
            before[ref] = headers["valise-bundle-sha256"]
        token = self.ticket_and_link("CL-STOP")
        data = age_like(64 * MiB, b"stop")
        path = create_upload(self.cluster.request, token, len(data))
        upload_id = path.rsplit("/", 1)[1]
        conn = self.cluster.connect(timeout=60)
        try:
            streaming = StreamingPatch(conn, token, path, 0, len(data))
            sent = 0
            while sent < 16 * MiB:
                streaming.send(data[sent:sent + MiB])
                sent += MiB
            self.wait_until(lambda: self.file_size(path) >= 8 * MiB, "node A to write")
            self.assertEqual(self.cluster.node_holding(upload_id), [self.a])
            self.assertEqual(self.a.stop(), 0)  # SIGTERM
        finally:
            conn.close()
        self.cluster.kill(self.a)  # stopped already: waits for HAProxy to send to B
        at = offset_of(self.cluster.request, token, path)
        self.assertGreater(at, 0)
        status, headers, body = patch(self.cluster.request, token, path, at, memoryview(data)[at:])
        self.assertEqual(status, 204, body)
        self.assert_one_bundle("CL-STOP", data, headers)
        tickets = {t["ref"] for t in self.b.api("GET", "/api/v1/tickets", expect=200)}
        self.assertLessEqual(set(before) | {"CL-STOP"}, tickets)
        for ref, sha in before.items():
            self.assertEqual([b["sha256"] for b in self.bundles(self.b, ref)], [sha])


class PurgeThroughEitherNode(ClusterTest):
    def test_resolving_on_one_node_purges_everywhere_once(self):
        token = self.ticket_and_link("CL-PURGE")
        bundle_ids = []
        for i, node in enumerate((self.a, self.b)):
            small = age_like(500 + i, bytes([i]))
            path = create_upload(node.request, token, len(small))
            status, headers, _ = patch(node.request, token, path, 0, small)
            self.assertEqual(status, 204)
            bundle_ids.append(headers["valise-bundle-id"])
        partial = create_upload(self.a.request, token, 1000)
        self.assertEqual(patch(self.a.request, token, partial, 0, age_like(100))[0], 204)
        for node in (self.a, self.b):
            for bundle_id in bundle_ids:
                node.api("GET", f"/api/v1/bundles/{bundle_id}", expect=200)
        result = self.b.api("POST", "/api/v1/tickets/CL-PURGE/resolve", expect=200)
        self.assertEqual({p["id"] for p in result["purged"]}, set(bundle_ids))
        # The other node resolving it again purges nothing more.
        self.a.api("POST", "/api/v1/tickets/CL-PURGE/resolve")
        for node in (self.a, self.b):
            for bundle_id in bundle_ids:
                node.api("GET", f"/api/v1/bundles/{bundle_id}", expect=404)
                node.api("GET", f"/api/v1/bundles/{bundle_id}/content", expect=404)
            status, _, _ = node.request("HEAD", partial, token=token, headers={"Tus-Resumable": "1.0.0"})
            self.assertIn(status, (404, 409, 410))  # 409: the link died with the ticket
        self.assertEqual(sorted(p.name for p in (self.a.data / "bundles").iterdir()), [])
        self.assertEqual(list((self.a.data / "uploads").iterdir()), [])
        actions = [r["action"] for r in self.a.api("GET", "/api/v1/tickets/CL-PURGE/audit",
                                                   expect=200)]
        self.assertEqual(actions.count("purge.resolved"), 1, actions)


class ClientAddressThroughHaproxy(ClusterTest):
    def test_the_audit_shows_the_client_not_haproxy(self):
        status, _, _ = self.cluster.request("GET", "/api/v1/tickets", token="vst_wrong",
                                            source="127.0.0.77")
        self.assertEqual(status, 401)
        records = self.a.api("GET", "/api/v1/audit?limit=10000", token=self.a.admin_token,
                             expect=200)
        addresses = [r["detail"].get("address") for r in records if r["action"] == "auth.refused"]
        self.assertIn("127.0.0.77", addresses, json.dumps(records)[:2000])
        self.assertNotIn("127.0.0.2", addresses)


if __name__ == "__main__":
    unittest.main()
