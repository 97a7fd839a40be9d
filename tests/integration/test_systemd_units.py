"""The unit files in systemd/ stay hardened: systemd-analyze's offline
exposure score at or below the issue's targets. Python 3 standard library."""
import re
import shutil
import subprocess
import unittest
from pathlib import Path

UNITS = Path(__file__).resolve().parents[2] / "systemd"
TARGETS = {"valise-server.service": 2.0, "valise-agent.service": 2.5}


class ExposureScore(unittest.TestCase):
    def test_units_are_hardened(self):
        analyze = shutil.which("systemd-analyze")
        self.assertIsNotNone(analyze, "systemd-analyze not found: apt-get install systemd")
        for unit, target in TARGETS.items():
            with self.subTest(unit=unit):
                out = subprocess.run([analyze, "security", "--offline=yes", str(UNITS / unit)],
                                     capture_output=True, text=True, timeout=60)
                match = re.search(r"Overall exposure level for \S+: ([0-9.]+)", out.stdout)
                self.assertIsNotNone(match, out.stdout + out.stderr)
                self.assertLessEqual(float(match.group(1)), target, out.stdout)


if __name__ == "__main__":
    unittest.main()
