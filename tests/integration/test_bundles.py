"""valise pack / open / inspect end to end, on a small log tree: round trips,
the generated-passphrase workflow, and failures that must leave nothing behind
(no DIR, no partial bundle, nothing outside DIR).

Run by ctest with VALISE (and AGE, ZSTD for hostile bundles) set;
`python3 -B FILE -v [CLASS]` by hand."""
import gzip
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import signal
import stat
import tarfile
import unittest

from harness import TestCase, age, binary, file_tree, run, valise

PASSPHRASE = "tango-7-lemon-42-orbit"


class BundleTest(TestCase):
    """A log tree in tmp/tree, a key pair and a passphrase file."""

    def setUp(self):
        super().setUp()
        rng = random.Random(7)
        self.tree = self.tmp / "tree"
        files = {
            "syslog": b"".join(b"Nov 22 10:%02d:00 web-01 app[42]: request %d ok\n" % (i % 60, i)
                               for i in range(2000)),
            "app/app.log": b"2025-11-22T10:00:00Z ERROR db connect failed password=hunter2\n",
            "app/app.log.2.gz": gzip.compress(b"old line\n" * 1000, mtime=0),
            "bin/random.bin": rng.randbytes(300 * 1024),  # several 64 KiB chunks
            "empty.txt": b"",
            "names/with space & \u00fcnicode.txt": b"odd names travel too\n",
        }
        for name, data in files.items():
            (self.tree / name).parent.mkdir(parents=True, exist_ok=True)
            (self.tree / name).write_bytes(data)
        self.key = self.tmp / "key.txt"
        keygen = self.assert_ok(run([valise(), "keygen", "-o", self.key]))
        self.recipient = keygen.stdout.decode().strip()
        self.passphrase_file = self.tmp / "passphrase.txt"
        self.passphrase_file.write_text(PASSPHRASE + "\n")

    def pack(self, *options, output="b.vls"):
        # Relative input path: the archive then holds tree/..., as a user would get.
        return run([valise(), "pack", "tree", "-o", output, *options], cwd=self.tmp)

    def open(self, bundle, *keys, dest="out"):
        return run([valise(), "open", bundle, *keys, "-d", dest], cwd=self.tmp)

    def assert_same_tree(self, extracted):
        got, want = file_tree(extracted), file_tree(self.tree)
        self.assertEqual({k: v for k, v in got.items() if k.startswith("tree/")},
                         {f"tree/{k}": v for k, v in want.items()})
        extra = {k for k in got if not k.startswith("tree/")}
        self.assertLessEqual(extra, {"manifest.json"}, "unexpected extracted files")

    def assert_open_fails(self, bundle, pattern, *keys):
        """open fails with one line matching pattern, and leaves tmp as it was."""
        before = sorted(os.listdir(self.tmp))
        line = self.assert_valise_error(self.open(bundle, *(keys or ("-i", self.key))), pattern)
        self.assertFalse((self.tmp / "out").exists(), "DIR exists after a failed open")
        self.assertEqual(sorted(os.listdir(self.tmp)), before, "files left next to DIR")
        return line


class RoundTrip(BundleTest):
    def test_passphrase_file(self):
        self.assert_ok(self.pack("--passphrase-file", self.passphrase_file))
        self.assert_ok(self.open("b.vls", "--passphrase-file", self.passphrase_file))
        self.assert_same_tree(self.tmp / "out")

    def test_recipient_and_identity(self):
        self.assert_ok(self.pack("-r", self.recipient))
        self.assertFalse(b"password=hunter2" in (self.tmp / "b.vls").read_bytes())
        self.assert_ok(self.open("b.vls", "-i", self.key))
        self.assert_same_tree(self.tmp / "out")

    def test_check_extracts_nothing(self):
        self.assert_ok(self.pack("-r", self.recipient))
        before = sorted(os.listdir(self.tmp))
        self.assert_ok(run([valise(), "open", "b.vls", "-i", self.key, "--check"], cwd=self.tmp))
        self.assertEqual(sorted(os.listdir(self.tmp)), before)

    def test_inspect_json_lists_every_file(self):
        summary = json.loads(self.assert_ok(self.pack("-r", self.recipient, "--ticket", "T-42",
                                                      "--json")).stdout)
        out = self.assert_ok(run([valise(), "inspect", "b.vls", "-i", self.key, "--json"],
                                 cwd=self.tmp)).stdout
        manifest = json.loads(out)
        self.assertEqual(manifest["ticket"], "T-42")
        self.assertEqual(manifest["bundle_id"], summary["bundle_id"])
        items = {item["path"]: item for item in manifest["items"]}
        for name, data in file_tree(self.tree).items():
            with self.subTest(name):
                item = items[f"tree/{name}"]
                self.assertEqual(item["size"], len(data))
                self.assertEqual(item["sha256"], hashlib.sha256(data).hexdigest())

    def test_existing_destination_is_left_alone(self):
        self.assert_ok(self.pack("-r", self.recipient))
        (self.tmp / "out").mkdir()
        (self.tmp / "out" / "mine.txt").write_text("keep me")
        self.assert_valise_error(self.open("b.vls", "-i", self.key), r"exist")
        self.assertEqual(file_tree(self.tmp / "out"), {"mine.txt": b"keep me"})


class GeneratedPassphrase(BundleTest):
    def test_printed_once_and_opens(self):
        result = self.assert_ok(self.pack())
        stdout, stderr = result.stdout.decode(), result.stderr.decode()
        found = re.findall(r"^passphrase:\s*(\S.*?)\s*$", stdout, re.MULTILINE)
        self.assertEqual(len(found), 1, stdout)
        passphrase = found[0]
        self.assertEqual((stdout + stderr).count(passphrase), 1, "printed more than once")
        self.passphrase_file.write_text(passphrase + "\n")
        self.assert_ok(self.open("b.vls", "--passphrase-file", self.passphrase_file))
        self.assert_same_tree(self.tmp / "out")

    def test_passphrase_out_file(self):
        secret = self.tmp / "secret.txt"
        result = self.assert_ok(self.pack("--passphrase-out", secret))
        passphrase = secret.read_text().strip()
        self.assertGreaterEqual(len(passphrase), 16)
        self.assertEqual(stat.S_IMODE(secret.stat().st_mode), 0o600)
        self.assertNotIn(passphrase, (result.stdout + result.stderr).decode())
        self.assert_ok(self.open("b.vls", "--passphrase-file", secret))
        self.assert_same_tree(self.tmp / "out")

    def test_each_pack_gets_a_new_passphrase(self):
        one = self.tmp / "one.txt"
        two = self.tmp / "two.txt"
        self.assert_ok(self.pack("--passphrase-out", one, output="1.vls"))
        self.assert_ok(self.pack("--passphrase-out", two, output="2.vls"))
        self.assertNotEqual(one.read_text(), two.read_text())


class Failures(BundleTest):
    def test_wrong_passphrase(self):
        self.assert_ok(self.pack("--passphrase-file", self.passphrase_file))
        wrong = self.tmp / "wrong.txt"
        wrong.write_text("not-the-passphrase\n")
        self.assert_open_fails("b.vls", r"passphrase", "--passphrase-file", wrong)

    def test_key_bundle_without_identity_asks_for_none(self):
        # No terminal here: a passphrase prompt would fail; a key file must say -i.
        self.assert_ok(self.pack("-r", self.recipient))
        result = run([valise(), "open", "b.vls", "-d", "out"], cwd=self.tmp)
        self.assert_valise_error(result, r"public keys")
        self.assertIn(b"-i", result.stderr)
        self.assertFalse((self.tmp / "out").exists())

    def test_wrong_key(self):
        self.assert_ok(self.pack("-r", self.recipient))
        other = self.tmp / "other.txt"
        self.assert_ok(run([valise(), "keygen", "-o", other]))
        self.assert_open_fails("b.vls", r"identit|key", "-i", other)

    def test_truncated_bundle(self):
        self.assert_ok(self.pack("-r", self.recipient))
        data = (self.tmp / "b.vls").read_bytes()
        for size in (100, len(data) // 2, len(data) - 1):
            with self.subTest(size=size):
                (self.tmp / "b.vls").write_bytes(data[:size])
                self.assert_open_fails(
                    "b.vls", r"truncat|incomplete|tamper|authenticat|corrupt|header")

    def test_tampered_bundle(self):
        self.assert_ok(self.pack("-r", self.recipient))
        data = bytearray((self.tmp / "b.vls").read_bytes())
        data[len(data) // 2] ^= 0x40
        (self.tmp / "b.vls").write_bytes(bytes(data))
        self.assert_open_fails("b.vls", r"tamper|authenticat|corrupt|damaged|modified")

    def test_not_a_bundle(self):
        # A good age file whose content is not tar+zstd.
        (self.tmp / "plain").write_bytes(random.Random(3).randbytes(100_000))
        self.assert_ok(run([valise(), "encrypt", "-r", self.recipient, "-o", "b.vls", "plain"],
                           cwd=self.tmp))
        self.assert_open_fails("b.vls", r"bundle")

    def test_pack_into_missing_directory(self):
        result = self.pack("-r", self.recipient, output="missing/b.vls")
        self.assert_valise_error(result, r"missing|no such|directory")
        self.assertFalse((self.tmp / "missing").exists())

    def test_pack_failing_midway_leaves_no_file(self):
        # A 1 MiB file-size limit makes writes fail with EFBIG once the bundle
        # outgrows it, deep into the stream; SIGXFSZ ignored so write() returns
        # the error instead of killing the process. Always available, no root.
        (self.tree / "bin/big.bin").write_bytes(random.Random(4).randbytes(3 << 20))
        (self.tmp / "outdir").mkdir()

        def limit_file_size():
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (1 << 20, 1 << 20))

        result = run([valise(), "pack", "tree", "-o", "outdir/b.vls",
                      "--passphrase-out", "outdir/secret.txt"], cwd=self.tmp,
                     preexec_fn=limit_file_size, restore_signals=False)
        self.assert_valise_error(result, r"large|space|limit")
        self.assertEqual(os.listdir(self.tmp / "outdir"), [], "partial output left behind")

    def test_disk_full_leaves_no_file(self):
        # A real ENOSPC: a 1 MiB tmpfs in a private mount namespace (needs root).
        if (os.geteuid() != 0 or not shutil.which("unshare")
                or run(["unshare", "-m", "true"]).returncode != 0):
            # CI runs as root on Debian: a missing capability is a broken setup, not a skip.
            self.fail("the disk-full case needs root and `unshare -m` (util-linux)")
        (self.tree / "bin/big.bin").write_bytes(random.Random(5).randbytes(3 << 20))
        (self.tmp / "full").mkdir()
        script = ('mount -t tmpfs -o size=1m valise-test full || exit 99; '
                  '"$0" pack tree -r "$1" -o full/b.vls; rc=$?; ls -A full >&2; exit $rc')
        result = run(["unshare", "-m", "--propagation", "private", "sh", "-c", script,
                      valise(), self.recipient], cwd=self.tmp)
        self.assertNotEqual(result.returncode, 99, result.stderr)
        lines = result.stderr.decode().rstrip("\n").split("\n")
        listing = [line for line in lines if not line.startswith("valise: ")]
        self.assertEqual(listing, [], "files left on the full disk")
        result.stderr = "\n".join(line for line in lines if line.startswith("valise: ")).encode()
        self.assert_valise_error(result, r"space|full")


class HostileBundles(BundleTest):
    """Bundles valise did not write: a real bundle's content, re-packed by hand
    with tarfile, `zstd` and stock `age`, plus entries that try to escape DIR."""

    def setUp(self):
        super().setUp()
        self.assert_ok(self.pack("-r", self.recipient, output="real.vls"))
        plain = self.assert_ok(run([valise(), "decrypt", "-i", self.key, "real.vls"],
                                   cwd=self.tmp)).stdout
        tar = self.assert_ok(run([binary("ZSTD", "zstd"), "-d", "-c"], input=plain)).stdout
        with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
            self.members = [(m, archive.extractfile(m).read() if m.isfile() else None)
                            for m in archive.getmembers()]
        self.manifest = json.loads(dict((m.name, d) for m, d in self.members)["manifest.json"])

    def bundle(self, case, extra=()):
        """Makes tmp/CASE/a/b/x.vls and returns a/b, where open will run (so that
        ".." has somewhere to go): the real entries, then `extra` (TarInfo, data)
        listed in the manifest like any file, then manifest.json last."""
        work = self.tmp / case / "a" / "b"
        work.mkdir(parents=True)
        manifest = json.loads(json.dumps(self.manifest))
        template = manifest["items"][0]
        for info, data in extra:
            manifest["items"].append(dict(template, path=info.name, source=info.name,
                                          size=len(data or b""),
                                          sha256=hashlib.sha256(data or b"").hexdigest()))
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            entries = [(m, d) for m, d in self.members if m.name != "manifest.json"] + list(extra)
            for info, data in entries:
                archive.addfile(info, io.BytesIO(data) if data is not None else None)
            text = json.dumps(manifest).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(text)
            archive.addfile(info, io.BytesIO(text))
        zstd = [binary("ZSTD", "zstd"), "-3", "-c"]
        zst = self.assert_ok(run(zstd, input=buffer.getvalue())).stdout
        self.assert_ok(run([age(), "-r", self.recipient, "-o", work / "x.vls"], input=zst))
        return work

    def open_in(self, work):
        return run([valise(), "open", "x.vls", "-i", self.key, "-d", "out"], cwd=work)

    def assert_refused(self, work, pattern):
        """open fails and nothing is created: no DIR, nothing beside or above it."""
        self.assert_valise_error(self.open_in(work), pattern)
        self.assertEqual(os.listdir(work), ["x.vls"], "DIR or leftovers exist")
        self.assertEqual(os.listdir(work.parent), ["b"])
        self.assertEqual(os.listdir(work.parent.parent), ["a"])

    def test_rebuilt_bundle_opens(self):
        # The control: without hostile entries, the hand-made bundle is fine, so
        # the refusals below are about the entries, not about how it was built.
        work = self.bundle("control")
        self.assert_ok(self.open_in(work))
        self.assert_same_tree(work / "out")

    def test_changed_content_is_refused(self):
        self.members = [(info, data.replace(b"hunter2", b"HUNTER2") if data else data)
                        for info, data in self.members]
        self.assert_refused(self.bundle("changed"), r"manifest|mismatch|sha|checksum|differ")

    def test_escaping_entries_are_refused(self):
        def entry(name, data=b"pwned\n", kind=tarfile.REGTYPE, link=""):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, link
            if kind != tarfile.REGTYPE:
                return info, None
            info.size = len(data)
            return info, data

        device = tarfile.TarInfo("tree/null")
        device.type, device.devmajor, device.devminor = tarfile.CHRTYPE, 1, 3
        outside = self.tmp / "absolute" / "evil"
        cases = {
            "dot-dot": [entry("../evil")],
            "dot-dot-inside": [entry("tree/../../evil")],
            "absolute": [entry(str(outside))],
            "symlink-out-then-through-it": [
                entry("tree/link", kind=tarfile.SYMTYPE, link="../../.."), entry("tree/link/evil")],
            "hard-link-to-a-system-file": [
                entry("tree/passwd", kind=tarfile.LNKTYPE, link="/etc/passwd")],
            "device-file": [(device, None)],
        }
        for case, extra in cases.items():
            with self.subTest(case):
                self.assert_refused(self.bundle(case, extra),
                                    r"unsafe|outside|path|refus|link|device|unsupported|entry")
                self.assertFalse(outside.exists())
                self.assertEqual(list((self.tmp / case).rglob("*evil*")), [])



class OpenKeepsManifest(BundleTest):
    """open -d DIR leaves the collection record (manifest.json) beside the
    files, under the one name no collected file can take, and says where."""

    def setUp(self):
        super().setUp()
        # An item that is recorded but not stored: its error is in the record only.
        os.symlink("/nonexistent/target", self.tree / "app" / "link.log")

    def test_manifest_beside_the_files_and_named_in_the_output(self):
        self.assert_ok(self.pack("-r", self.recipient, "--ticket", "T-7"))
        opened = self.assert_ok(self.open("b.vls", "-i", self.key))
        record = self.tmp / "out" / "manifest.json"
        self.assertTrue(record.is_file(), "no manifest.json in DIR")
        inspected = self.assert_ok(run([valise(), "inspect", "b.vls", "-i", self.key, "--json"],
                                       cwd=self.tmp)).stdout
        self.assertEqual(json.loads(record.read_bytes()), json.loads(inspected))
        items = {item["path"]: item for item in json.loads(record.read_bytes())["items"]}
        self.assertIn("not followed", items["tree/app/link.log"]["error"])
        self.assertIn("out/manifest.json", opened.stdout.decode())
        self.assert_same_tree(self.tmp / "out")

    def test_json_output_names_the_manifest(self):
        self.assert_ok(self.pack("-r", self.recipient))
        out = json.loads(self.assert_ok(run([valise(), "open", "b.vls", "-i", self.key,
                                             "-d", "out", "--json"], cwd=self.tmp)).stdout)
        self.assertEqual(out["manifest_file"], os.path.join("out", "manifest.json"))
        self.assertEqual(json.loads((self.tmp / out["manifest_file"]).read_bytes()),
                         out["manifest"])

    def test_a_collected_folder_named_manifest_json_cannot_take_its_place(self):
        folder = self.tmp / "manifest.json"
        folder.mkdir()
        (folder / "x.log").write_text("a log in an oddly named folder\n")
        self.assert_ok(run([valise(), "pack", "manifest.json/x.log", "tree", "-r",
                            self.recipient, "-o", "b.vls"], cwd=self.tmp))
        self.assert_ok(self.open("b.vls", "-i", self.key))
        out = self.tmp / "out"
        self.assertTrue((out / "manifest.json").is_file(), "manifest.json is not the record")
        json.loads((out / "manifest.json").read_bytes())
        stored = [p for p in out.rglob("x.log")]
        self.assertEqual([p.read_text() for p in stored], ["a log in an oddly named folder\n"])

    def test_a_bundle_with_an_entry_under_manifest_json_is_refused(self):
        # Hand-made (tarfile, zstd, stock age): valise never writes one.
        data = b"pwned\n"
        manifest = {"format": 1, "bundle_id": "b", "ticket": "", "host": "h", "profile": "",
                    "created_at": "2026-01-01T00:00:00Z", "since": None, "until": None,
                    "redactions": 0, "notes": [],
                    "items": [{"path": "manifest.json/evil", "source": "x", "size": len(data),
                               "sha256": hashlib.sha256(data).hexdigest(), "error": "",
                               "truncated": False, "redactions": 0, "redactions_by_rule": {}}]}
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
            for name, content in (("manifest.json/evil", data),
                                  ("manifest.json", json.dumps(manifest).encode())):
                info = tarfile.TarInfo(name)
                info.size = len(content)
                archive.addfile(info, io.BytesIO(content))
        zst = self.assert_ok(run([binary("ZSTD", "zstd"), "-c"], input=buffer.getvalue())).stdout
        self.assert_ok(run([age(), "-r", self.recipient, "-o", self.tmp / "x.vls"], input=zst))
        self.assert_open_fails("x.vls", r"unsafe|reserved")


if __name__ == "__main__":
    unittest.main()
