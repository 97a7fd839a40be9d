"""valise-server against the unmodified tus-js-client and Uppy (@uppy/core +
@uppy/tus) in Node: abort and resume of a 50 MiB upload; Uppy's metadata,
pause/resume, resume after a reload, and cancel (termination);
creation-with-upload, chunks, X-HTTP-Method-Override; plaintext refused with 415
leaving nothing on disk; a deferred length with a link (the browser drop
page's way), charged to its budget and stopped at it. Every stored upload's
SHA-256 is checked against the file's. The scenarios are in tus-js/interop.mjs; this driver starts a real
server on loopback (server_process.py), makes the ticket, link and age files
(Debian's `age`), and runs `node interop.mjs SCENARIO`.

Run by ctest with VALISE_SERVER_BIN (and optionally NODE, AGE, AGE_KEYGEN) set;
`python3 -B FILE -v [CLASS]`. A missing node, node_modules or age fails the
tests; it never skips them."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from server_process import ServerProcess  # noqa: E402

HERE = Path(__file__).resolve().parent
TUS_JS = HERE / "tus-js"
MiB = 1024 * 1024
NODE_TIMEOUT = 600


def program(variable, default, how_to_install):
    name = os.environ.get(variable) or default
    path = shutil.which(name)
    if not path:
        raise RuntimeError(f"{variable}={name!r}: program not found; {how_to_install}")
    return path


def node():
    path = program("NODE", "node", "install Node.js 20 (Debian: apt-get install nodejs npm; "
                   "see docs/dependencies.md)")
    if not (TUS_JS / "node_modules" / "tus-js-client").is_dir():
        raise RuntimeError(f"{TUS_JS}/node_modules is missing: run `npm ci --prefix {TUS_JS}` "
                           "(scripts/test does it)")
    return path


def age_encrypt(plain, out, workdir):
    """Encrypts `plain` to a fresh X25519 key with Debian's age; returns `out`."""
    how = "install Debian's age package (scripts/test does)"
    key = Path(workdir) / "age-key.txt"
    if not key.exists():
        subprocess.run([program("AGE_KEYGEN", "age-keygen", how), "-o", key], check=True,
                       capture_output=True)
    recipient = subprocess.run([program("AGE_KEYGEN", "age-keygen", how), "-y", key], check=True,
                               capture_output=True).stdout.decode().strip()
    subprocess.run([program("AGE", "age", how), "-r", recipient, "-o", out, plain], check=True,
                   capture_output=True)
    return out


class TusJs(unittest.TestCase):
    """One server per class; each test runs node on one or more scenarios."""
    ticket = None

    @classmethod
    def setUpClass(cls):
        cls.node = node()
        cls.tmp_dir = tempfile.TemporaryDirectory(prefix="valise-tus-js-")
        cls.tmp = Path(cls.tmp_dir.name)
        cls.files = cls.tmp / "files"
        cls.files.mkdir()
        for name, size in (("big", 50 * MiB), ("medium", 12 * MiB)):
            plain = cls.files / f"{name}.bin"
            plain.write_bytes(os.urandom(size))
            age_encrypt(plain, cls.files / f"{name}.age", cls.tmp)
            plain.unlink()
        # Plaintext with a marker that must not be found on the server's disk.
        cls.marker = f"valise interop plaintext {uuid.uuid4()}\n".encode()
        cls.plaintext = cls.files / "plain.txt"
        cls.plaintext.write_bytes(cls.marker * (4 * MiB // len(cls.marker)))

        cls.server = ServerProcess(cls.tmp / "server")
        cls.server.start()
        try:
            cls.server.create_ticket(cls.ticket, title=f"tus-js interop {cls.__name__}")
            cls.link = cls.server.create_link(cls.ticket, max_bytes=1024 * MiB)
        except BaseException:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        cls.tmp_dir.cleanup()
        if code not in (0, None):
            raise AssertionError(f"valise-server exited {code} on SIGTERM")

    def run_scenarios(self, *names, link=None, **extra):
        work = self.tmp / "node-work"
        work.mkdir(exist_ok=True)
        environment = dict(
            os.environ,
            VALISE_SERVER_URL=self.server.url,
            VALISE_CA=str(self.server.ca),
            VALISE_TICKET=self.ticket,
            VALISE_LINK_TOKEN=(link or self.link)["token"],
            VALISE_LINK_UPLOAD_URL=(link or self.link)["upload_url"],
            VALISE_TECHNICIAN_TOKEN=self.server.technician_token,
            VALISE_AGE_FILE_BIG=str(self.files / "big.age"),
            VALISE_AGE_FILE_MEDIUM=str(self.files / "medium.age"),
            VALISE_PLAINTEXT_FILE=str(self.plaintext),
            VALISE_WORK_DIR=str(work),
            **extra,
        )
        result = subprocess.run([self.node, TUS_JS / "interop.mjs", *names], cwd=TUS_JS,
                                env=environment, capture_output=True, timeout=NODE_TIMEOUT)
        output = (result.stdout + result.stderr).decode(errors="replace")
        print(output, end="", file=sys.stderr)
        self.assertEqual(result.returncode, 0,
                         f"node interop.mjs {' '.join(names)} failed:\n{output}\n"
                         f"--- server log ---\n{self.server.log_tail()}")
        status, _, _ = self.server.request("GET", "/healthz")
        self.assertEqual(status, 200, "the server is no longer healthy")
        return output


class TusJsClient(TusJs):
    ticket = "T-TUSJS-CLIENT"

    def test_abort_then_resume_50_mib_from_url_storage(self):
        self.run_scenarios("abort-resume")

    def test_abort_then_resume_with_upload_url(self):
        self.run_scenarios("abort-resume-upload-url")

    def test_creation_with_upload(self):
        self.run_scenarios("creation-with-upload")

    def test_deferred_length_with_a_link(self):
        # Links of their own: the scenario checks what each was charged.
        link = self.server.create_link(self.ticket, max_bytes=1024 * MiB)
        budget = 7 * MiB + 123
        small = self.server.create_link(self.ticket, max_bytes=budget)
        self.run_scenarios("deferred-length", link=link, VALISE_SMALL_LINK_TOKEN=small["token"],
                           VALISE_SMALL_LINK_BUDGET=str(budget))
        stored = [p.stat().st_size for p in (self.server.data / "uploads").iterdir()]
        self.assertIn(budget, stored)

    def test_chunked_5_mib_with_technician_token(self):
        self.run_scenarios("chunked")

    def test_x_http_method_override(self):
        self.run_scenarios("override-patch")

    def test_plaintext_is_refused_and_nothing_stored(self):
        self.run_scenarios("plaintext")
        # Not a byte of it anywhere under the data directory (uploads/, bundles/,
        # the database and its WAL).
        for path in self.server.data.rglob("*"):
            if path.is_file():
                with self.subTest(str(path.relative_to(self.server.data))):
                    self.assertNotIn(self.marker, path.read_bytes(),
                                     f"plaintext found in {path}")


class Uppy(TusJs):
    ticket = "T-TUSJS-UPPY"

    def test_uppy_metadata_and_pause_resume(self):
        self.run_scenarios("uppy-pause-resume")

    def test_uppy_resumes_after_a_reload(self):
        self.run_scenarios("uppy-reload-resume")

    def test_uppy_cancel_terminates_the_upload(self):
        self.run_scenarios("uppy-cancel")


if __name__ == "__main__":
    unittest.main()
