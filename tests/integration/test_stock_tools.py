"""Bundles read by stock tools, as docs/bundle-format.md tells a user to:
`age -d -i KEY B.vls | zstd -d | tar -t` (GNU tar) and bsdtar, on bundles made
by the real `valise pack` and by the real `valise-agent collect`. Each must
list the right names, UTF-8 ones included, and say nothing on stderr (GNU tar
warned "Ignoring unknown extended header keyword 'hdrcharset'" per entry).

ctest passes VALISE, VALISE_AGENT_BIN, AGE and ZSTD; tar and bsdtar
(libarchive-tools) come from PATH. A missing program fails, never skips.
Python 3 standard library."""
import os
import subprocess
import unittest

from harness import TestCase, age, binary, run, valise

# A UTF-8 locale, as a user's terminal has: the names are UTF-8 in the archive.
UTF8_ENV = dict(os.environ, LC_ALL="C.UTF-8")
LONG = "a-name-longer-than-the-hundred-bytes-of-a-ustar-header-" + "x" * 60 + ".log"
NAMES = ["plain.log", "\u00fcn\u00efc\u00f6de dir/caf\u00e9 \u65e5\u672c.log", LONG]


class StockTools(TestCase):
    def setUp(self):
        super().setUp()
        self.key = self.tmp / "key.txt"
        keygen = self.assert_ok(run([valise(), "keygen", "-o", self.key]))
        self.recipient = keygen.stdout.decode().strip()
        self.tree = self.tmp / "tree"
        for name in NAMES:
            (self.tree / name).parent.mkdir(parents=True, exist_ok=True)
            (self.tree / name).write_text(f"a line of {name}\n")

    def listing(self, bundle, lister):
        """Names `lister` (a shell command reading the tar stream on stdin)
        prints for the bundle, after stock age (and zstd); fails on any word on
        stderr or a non-zero exit anywhere in the pipeline."""
        script = f'"$0" -d -i "$1" "$2" | {lister}'
        result = subprocess.run(["bash", "-o", "pipefail", "-c", script, age(), self.key, bundle],
                                capture_output=True, env=UTF8_ENV, timeout=120,
                                stdin=subprocess.DEVNULL)
        self.assertEqual(result.returncode, 0, f"{lister}: {result.stderr!r}")
        self.assertEqual(result.stderr.decode(errors="replace"), "", lister)
        return {line.rstrip("/") for line in result.stdout.decode().splitlines()}

    def assert_stock_tools_list(self, bundle, names):
        zstd = binary("ZSTD", "zstd")
        for lister in (f'"{zstd}" -d | "{binary("TAR", "tar")}" -t',
                       f'"{binary("BSDTAR", "bsdtar")}" -t -f -'):
            with self.subTest(lister):
                listed = self.listing(bundle, lister)
                self.assertLessEqual(set(names) | {"manifest.json"}, listed)

    def test_a_packed_bundle(self):
        self.assert_ok(run([valise(), "pack", "tree", "-r", self.recipient, "-o", "b.vls"],
                           cwd=self.tmp))
        self.assert_stock_tools_list(self.tmp / "b.vls", [f"tree/{name}" for name in NAMES])

    def test_a_bundle_from_the_agent(self):
        config = self.tmp / "agent.toml"
        quoted = str(self.tree).replace("\\", "\\\\").replace('"', '\\"')
        config.write_text(
            'server = "https://127.0.0.1:9"\n'
            f'state_dir = "{self.tmp}/state"\ncontrol_socket = "{self.tmp}/control.sock"\n'
            f'[delivery]\nrecipients = ["{self.recipient}"]\n'
            f'[profiles.here]\nremote = false\nfiles = ["{quoted}/*.log", "{quoted}/*/*.log"]\n')
        agent = binary("VALISE_AGENT_BIN")
        self.assert_ok(run([agent, "--config", config, "collect", "--profile", "here",
                            "-o", self.tmp / "a.vls"]))
        stored = f"files{self.tree}"  # the agent stores /x/y as files/x/y
        self.assert_stock_tools_list(self.tmp / "a.vls", [f"{stored}/{name}" for name in NAMES])


if __name__ == "__main__":
    unittest.main()
