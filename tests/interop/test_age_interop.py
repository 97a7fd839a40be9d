"""valise and Debian's stock `age` read each other's files, both directions:
X25519 keys, ASCII armor, passphrases (age typed at through a pseudo-terminal),
payloads around the 64 KiB chunk size; and damaged files fail cleanly.

Run by ctest with VALISE, AGE and AGE_KEYGEN set; `python3 -B FILE -v [CLASS]`."""
import random
import sys
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from harness import TestCase, age, age_keygen, run, run_in_terminal, valise  # noqa: E402

CHUNK = 64 * 1024
# Edge cases of the STREAM payload: empty, short, exactly one full chunk (the
# final chunk may be full but not empty), and many chunks with a short tail.
PAYLOADS = {
    "empty": b"",
    "short": b"hello from valise\n",
    "one-chunk": random.Random(1).randbytes(CHUNK),
    "multi-chunk": random.Random(2).randbytes(1024 * 1024 + 17),
}
PASSPHRASE = "correct horse battery staple 42"


class Interop(TestCase):
    def setUp(self):
        super().setUp()
        self.files = {}
        for name, data in PAYLOADS.items():
            self.files[name] = self.tmp / name
            self.files[name].write_bytes(data)
        # One key made by each tool.
        self.age_key = self.tmp / "age-key.txt"
        self.assert_ok(run([age_keygen(), "-o", self.age_key]))
        derived = self.assert_ok(run([age_keygen(), "-y", self.age_key]))
        self.age_recipient = derived.stdout.decode().strip()
        self.valise_key = self.tmp / "valise-key.txt"
        out = self.assert_ok(run([valise(), "keygen", "-o", self.valise_key])).stdout.decode()
        self.valise_recipient = out.strip()
        self.assertRegex(self.valise_recipient, r"^age1[02-9ac-hj-np-z]{58}$")
        self.passphrase_file = self.tmp / "passphrase.txt"
        self.passphrase_file.write_text(PASSPHRASE + "\n")

    def assert_decrypts_to(self, path, name):
        self.assertEqual(Path(path).read_bytes(), PAYLOADS[name], f"{path} != {name}")

    def age_decrypt(self, key, encrypted):
        # To stdout: `age -d -o FILE` creates no FILE at all for an empty payload.
        return self.assert_ok(run([age(), "-d", "-i", key, encrypted])).stdout


class X25519(Interop):
    def test_valise_encrypts_age_decrypts(self):
        for name, plain in self.files.items():
            with self.subTest(name):
                enc = self.tmp / f"{name}.age"
                self.assert_ok(run([valise(), "encrypt", "-r", self.age_recipient, "-o", enc,
                                    plain]))
                self.assertEqual(self.age_decrypt(self.age_key, enc), PAYLOADS[name])

    def test_age_encrypts_valise_decrypts(self):
        for name, plain in self.files.items():
            with self.subTest(name):
                enc, dec = self.tmp / f"{name}.age", self.tmp / f"{name}.out"
                self.assert_ok(run([age(), "-r", self.valise_recipient, "-o", enc, plain]))
                self.assert_ok(run([valise(), "decrypt", "-i", self.valise_key, "-o", dec, enc]))
                self.assert_decrypts_to(dec, name)

    def test_valise_identity_file_is_an_age_identity_file(self):
        # age-keygen -y derives the same recipient valise printed, and age
        # decrypts with the file as is.
        derived = self.assert_ok(run([age_keygen(), "-y", self.valise_key])).stdout.decode().strip()
        self.assertEqual(derived, self.valise_recipient)
        enc = self.tmp / "x.age"
        self.assert_ok(run([age(), "-r", self.valise_recipient, "-o", enc, self.files["short"]]))
        self.assertEqual(self.age_decrypt(self.valise_key, enc), PAYLOADS["short"])

    def test_standard_streams_and_several_recipients(self):
        # -r and -R together, stdin to stdout; either identity opens the file.
        recipients = self.tmp / "recipients.txt"
        recipients.write_text(f"# the support team\n{self.valise_recipient}\n")
        enc = self.tmp / "x.age"
        command = [valise(), "encrypt", "-r", self.age_recipient, "-R", recipients]
        enc.write_bytes(self.assert_ok(run(command, input=PAYLOADS["multi-chunk"])).stdout)
        for key in (self.age_key, self.valise_key):
            with self.subTest(key.name):
                self.assertEqual(self.age_decrypt(key, enc), PAYLOADS["multi-chunk"])


class Armor(Interop):
    def test_valise_armors_age_decrypts(self):
        enc, dec = self.tmp / "x.age.asc", self.tmp / "x.out"
        self.assert_ok(run([valise(), "encrypt", "-a", "-r", self.age_recipient, "-o", enc,
                            self.files["multi-chunk"]]))
        text = enc.read_text()
        self.assertTrue(text.startswith("-----BEGIN AGE ENCRYPTED FILE-----\n"), text[:80])
        self.assertTrue(text.rstrip("\n").endswith("-----END AGE ENCRYPTED FILE-----"))
        self.assertTrue(all(len(line) <= 64 for line in text.splitlines()), "lines over 64 columns")
        self.assert_ok(run([age(), "-d", "-i", self.age_key, "-o", dec, enc]))
        self.assert_decrypts_to(dec, "multi-chunk")

    def test_age_armors_valise_decrypts(self):
        # valise detects armor by itself, as age -d does.
        for name in ("empty", "multi-chunk"):
            with self.subTest(name):
                enc, dec = self.tmp / f"{name}.asc", self.tmp / f"{name}.out"
                self.assert_ok(run([age(), "-a", "-r", self.valise_recipient, "-o", enc,
                                    self.files[name]]))
                self.assert_ok(run([valise(), "decrypt", "-i", self.valise_key, "-o", dec, enc]))
                self.assert_decrypts_to(dec, name)


class Passphrase(Interop):
    def test_valise_passphrase_file_age_prompt(self):
        enc, dec = self.tmp / "x.age", self.tmp / "x.out"
        self.assert_ok(run([valise(), "encrypt", "--passphrase-file", self.passphrase_file,
                            "-o", enc, self.files["multi-chunk"]]))
        code, screen, prompts = run_in_terminal([age(), "-d", "-o", dec, enc], PASSPHRASE)
        self.assertEqual((code, prompts), (0, 1), screen)
        self.assert_decrypts_to(dec, "multi-chunk")

    def test_age_prompt_valise_passphrase_file(self):
        # age -p asks twice: the passphrase (empty would generate one), then confirm.
        enc, dec = self.tmp / "x.age", self.tmp / "x.out"
        code, screen, prompts = run_in_terminal(
            [age(), "-p", "-o", enc, self.files["multi-chunk"]], PASSPHRASE)
        self.assertEqual((code, prompts), (0, 2), screen)
        self.assert_ok(run([valise(), "decrypt", "--passphrase-file", self.passphrase_file,
                            "-o", dec, enc]))
        self.assert_decrypts_to(dec, "multi-chunk")

    def test_valise_prompt_age_prompt(self):
        # valise's own terminal prompt (encrypt -p asks twice too), armored.
        enc, dec = self.tmp / "x.asc", self.tmp / "x.out"
        code, screen, prompts = run_in_terminal(
            [valise(), "encrypt", "-p", "-a", "-o", enc, self.files["short"]], PASSPHRASE)
        self.assertEqual((code, prompts), (0, 2), screen)
        self.assertNotIn(PASSPHRASE, screen, "the passphrase was echoed")
        code, screen, prompts = run_in_terminal([age(), "-d", "-o", dec, enc], PASSPHRASE)
        self.assertEqual((code, prompts), (0, 1), screen)
        self.assert_decrypts_to(dec, "short")

    def test_wrong_passphrase(self):
        enc = self.tmp / "x.age"
        code, screen, _ = run_in_terminal([age(), "-p", "-o", enc, self.files["short"]], PASSPHRASE)
        self.assertEqual(code, 0, screen)
        wrong = self.tmp / "wrong.txt"
        wrong.write_text("not the passphrase\n")
        result = run([valise(), "decrypt", "--passphrase-file", wrong, "-o", self.tmp / "out", enc])
        self.assert_valise_error(result, "passphrase")
        self.assertFalse((self.tmp / "out").exists())


class DamagedFiles(Interop):
    """Files made by age, then damaged: valise must stop with one clear line and
    leave no output file (it writes -o atomically)."""

    def setUp(self):
        super().setUp()
        self.enc = self.tmp / "x.age"
        self.assert_ok(run([age(), "-r", self.valise_recipient, "-o", self.enc,
                            self.files["multi-chunk"]]))
        self.data = self.enc.read_bytes()
        self.header_end = self.data.index(b"\n---") + 1
        self.header_end = self.data.index(b"\n", self.header_end) + 1

    def decrypt(self, data):
        damaged, out = self.tmp / "damaged.age", self.tmp / "out"
        damaged.write_bytes(data)
        result = run([valise(), "decrypt", "-i", self.valise_key, "-o", out, damaged])
        self.assertFalse(out.exists(), "a failed decryption left an output file")
        return result

    def test_tampered_chunk(self):
        for offset in (self.header_end + 16 + 100, len(self.data) // 2, len(self.data) - 5):
            with self.subTest(offset=offset):
                data = bytearray(self.data)
                data[offset] ^= 0x01
                self.assert_valise_error(self.decrypt(bytes(data)),
                                         r"tamper|authenticat|corrupt|damaged|modified")

    def test_tampered_header(self):
        # The header MAC covers the stanzas: flip one byte of the MAC itself.
        data = bytearray(self.data)
        data[self.header_end - 3] ^= 0x01
        self.assertNotEqual(self.decrypt(bytes(data)).returncode, 0)

    def test_truncated(self):
        # A cut inside a chunk cannot be told from tampering (the last chunk's
        # tag fails); a cut at a chunk boundary or in the header is a truncation.
        cuts = {"in the header": self.header_end - 10, "after the nonce": self.header_end + 16,
                "at a chunk boundary": self.header_end + 16 + CHUNK + 16,
                "mid-file": len(self.data) // 2, "one byte short": len(self.data) - 1}
        for where, size in cuts.items():
            with self.subTest(where):
                self.assert_valise_error(
                    self.decrypt(self.data[:size]),
                    r"truncat|incomplete|ends early|tamper|authenticat|corrupt|damaged|header")

    def test_trailing_data(self):
        self.assertNotEqual(self.decrypt(self.data + b"x").returncode, 0)

    def test_not_an_age_file(self):
        self.assert_valise_error(self.decrypt(b"just some text\n" * 10), r"not an age")

    def test_no_matching_identity(self):
        other = self.tmp / "other-key.txt"
        self.assert_ok(run([valise(), "keygen", "-o", other]))
        out = self.tmp / "out"
        result = run([valise(), "decrypt", "-i", other, "-o", out, self.enc])
        self.assert_valise_error(result, r"identit|key")
        self.assertFalse(out.exists())

    def test_valise_files_damaged_are_refused_by_age_too(self):
        # The other direction: age authenticates what valise wrote.
        enc = self.tmp / "v.age"
        self.assert_ok(run([valise(), "encrypt", "-r", self.age_recipient, "-o", enc,
                            self.files["multi-chunk"]]))
        data = bytearray(enc.read_bytes())
        data[len(data) // 2] ^= 0x01
        enc.write_bytes(bytes(data))
        self.assertNotEqual(run([age(), "-d", "-i", self.age_key, "-o", self.tmp / "o", enc])
                            .returncode, 0)


if __name__ == "__main__":
    unittest.main()
