"""scripts/check-includes (ctest include_layers) catches an upward include.

The script runs on a copy of server/src in a scratch git repository: clean,
it passes; with one include of a folder above planted in a file of tus/,
uploads/, web/ or http/ (which sees none of the store, its actors or the
API's routes), it fails and names that file.
"""

import pathlib
import shutil
import subprocess
import tempfile
import unittest

ROOT = pathlib.Path(__file__).resolve().parents[2]


class IncludeLayers(unittest.TestCase):
    def setUp(self):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="valise-layers-"))
        self.addCleanup(shutil.rmtree, self.dir)
        (self.dir / "scripts").mkdir()
        shutil.copy2(ROOT / "scripts" / "check-includes", self.dir / "scripts")
        shutil.copytree(ROOT / "server" / "src", self.dir / "server" / "src")
        self.git("init", "-q")

    def git(self, *args):
        subprocess.run(["git", *args], cwd=self.dir, check=True)

    def check(self):
        self.git("add", "-A")
        return subprocess.run([str(self.dir / "scripts" / "check-includes")],
                              cwd=self.dir, capture_output=True, text=True)

    def plant(self, relative, include):
        path = self.dir / "server" / "src" / relative
        text = path.read_text()
        path.write_text(f'#include "{include}"\n' + text)

    def test_the_tree_as_it_is_passes(self):
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_an_upward_include_fails(self):
        for relative, include in [
            ("tus/tus_protocol.cpp", "valise/server/store.hpp"),
            ("tus/upload_store.hpp", "api/api_error.hpp"),
            ("tus/tus_protocol.hpp", "metrics.hpp"),
            ("tus/tus_protocol.cpp", "uploads/upload_policy.hpp"),
            ("tus/tus_protocol.cpp", "http/request_handler.hpp"),
            ("tus/upload_registry.hpp", "api/api.hpp"),
            ("uploads/upload_policy.cpp", "api/api_error.hpp"),
            ("uploads/store_uploads.hpp", "metrics.hpp"),
            ("web/site.cpp", "api/api.hpp"),
            ("web/static_site.hpp", "tus/tus_headers.hpp"),
            ("http/connection.cpp", "tus/tus_protocol.hpp"),
            ("http/connection.cpp", "api/router.hpp"),
            ("http/connection.cpp", "uploads/upload_policy.hpp"),
            ("http/connection.cpp", "store/sql_store.hpp"),
            ("http/request_handler.hpp", "valise/server/store.hpp"),
            ("http/tls_contexts.hpp", "valise/server/config.hpp"),
        ]:
            with self.subTest(file=relative, include=include):
                original = (self.dir / "server" / "src" / relative).read_text()
                self.plant(relative, include)
                result = self.check()
                (self.dir / "server" / "src" / relative).write_text(original)
                self.assertNotEqual(result.returncode, 0)
                self.assertIn(f'server/src/{relative}: includes "{include}"', result.stderr)


if __name__ == "__main__":
    unittest.main()
