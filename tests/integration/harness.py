"""What the end-to-end tests share: locating the binaries under test, running
them, typing passphrases into programs that read them from a terminal, and
checking the shape of error messages. Python 3 standard library only.

ctest passes the binaries in the environment: VALISE (required), AGE and
AGE_KEYGEN (default: found on PATH). A missing binary fails the tests; it never
skips them."""
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

TIMEOUT = 120  # seconds for any one command: scrypt is slow on purpose, not that slow


def binary(variable, default=None):
    """The program named by $variable (or `default` on PATH), as an absolute path."""
    name = os.environ.get(variable, default)
    path = shutil.which(name) if name else None
    if not path:
        raise RuntimeError(
            f"{variable}={name!r}: program not found; ctest sets it (VALISE is the built "
            f"binary; age and age-keygen come from Debian's age package, which scripts/test "
            f"installs)")
    return path


def valise():
    return binary("VALISE")


def age():
    return binary("AGE", "age")


def age_keygen():
    return binary("AGE_KEYGEN", "age-keygen")


def run(args, cwd=None, input=None, **kwargs):
    """Runs a command to completion; returns the CompletedProcess (bytes). In a
    new session, without a controlling terminal: a program that wrongly falls
    back to a terminal prompt fails at once instead of waiting for a person."""
    return subprocess.run([str(a) for a in args], cwd=cwd, input=input, capture_output=True,
                          timeout=TIMEOUT, start_new_session=True, **kwargs)


PROMPT = re.compile(rb"passphrase[^\n:]*: ", re.IGNORECASE)


def run_in_terminal(args, passphrase, cwd=None):
    """Runs `args` with a fresh pseudo-terminal as its controlling terminal and
    types `passphrase` at each passphrase prompt, as age reads it from /dev/tty.
    Returns (exit code, terminal output, number of prompts answered)."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: never return into the test runner
        try:
            if cwd:
                os.chdir(cwd)
            os.execv(args[0], [str(a) for a in args])
        finally:
            os._exit(127)
    output, answered = b"", 0
    deadline = time.monotonic() + TIMEOUT
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.kill(pid, signal.SIGKILL)
                raise AssertionError(f"{args[0]} still running after {TIMEOUT}s: {output!r}")
            if not select.select([fd], [], [], left)[0]:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child has closed the terminal
                break
            if not data:
                break
            output += data
            while answered < len(PROMPT.findall(output)):
                os.write(fd, passphrase.encode() + b"\n")
                answered += 1
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace"), answered


class TestCase(unittest.TestCase):
    """A test case with its own temporary directory, removed afterwards."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="valise-test-"))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)

    def assert_ok(self, result):
        self.assertEqual(result.returncode, 0,
                         f"{result.args}\nstdout: {result.stdout!r}\nstderr: {result.stderr!r}")
        return result

    def assert_valise_error(self, result, pattern):
        """valise failed cleanly: non-zero exit (not a crash) and a one-line
        `valise: ...` error matching `pattern`, optionally followed by one
        `valise: hint: ...` line."""
        stderr = result.stderr.decode(errors="replace")
        # Positive: a negative code means killed by a signal, i.e. a crash.
        self.assertGreater(result.returncode, 0, f"{result.args} should fail: {stderr!r}")
        lines = stderr.rstrip("\n").split("\n")
        self.assertTrue(1 <= len(lines) <= 2 and lines[0].startswith("valise: "),
                        f"not a one-line valise error: {stderr!r}")
        if len(lines) == 2:
            self.assertTrue(lines[1].startswith("valise: hint: "), f"second line: {stderr!r}")
        self.assertRegex(lines[0], re.compile(pattern, re.IGNORECASE))
        return lines[0]


def file_tree(root):
    """{relative path: bytes} of every regular file under root."""
    root = Path(root)
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}
