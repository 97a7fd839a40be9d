"""The bash completion scripts the build generated (build/completions/PROGRAM),
sourced in a real bash and driven like readline does: COMP_WORDS and
COMP_CWORD set, the completion function called, COMPREPLY read back.
Python 3 standard library, bash and bash-completion."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

COMPLETIONS = Path(os.environ["VALISE_COMPLETIONS"])
BINARIES = {
    "valise": os.environ["VALISE_BIN"],
    "valise-agent": os.environ["VALISE_AGENT_BIN"],
    "valise-server": os.environ["VALISE_SERVER_BIN"],
}

# Sources the script ($1), checks that it registered its function for the
# program ($2), then completes the words after them, the last being the one
# under the cursor; prints COMPREPLY, one per line.
DRIVER = r'''
source "$1" || exit 2
program=$2
shift 2
spec=$(complete -p "$program") || exit 3
function=${spec#*-F }
function=${function%% *}
COMP_WORDS=("$program" "$@")
COMP_CWORD=$#
COMP_LINE="${COMP_WORDS[*]}"
COMP_POINT=${#COMP_LINE}
"$function" "$program" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" || exit 4
printf '%s\n' "${COMPREPLY[@]}"
'''


def complete(program, *words):
    """What bash offers for `program words...` (the last word is the cursor's)."""
    bash = shutil.which("bash")
    out = subprocess.run([bash, "--norc", "--noprofile", "-c", DRIVER, "bash",
                          str(COMPLETIONS / program), program, *words],
                         capture_output=True, text=True, timeout=30)
    if out.returncode != 0 or out.stderr:
        raise AssertionError(f"completing {program} {' '.join(words)!r}: exit {out.returncode}, "
                             f"stderr {out.stderr!r}")
    return [line for line in out.stdout.splitlines() if line]


def top_level_subcommands(program):
    """The subcommands `PROGRAM --help` lists."""
    out = subprocess.run([BINARIES[program], "--help"], capture_output=True, text=True,
                         timeout=30)
    section = out.stdout.split("Subcommands:", 1)[1]
    return [m.group(1) for m in re.finditer(r"^  (\S+)", section, re.MULTILINE)]


class Scripts(unittest.TestCase):
    def test_each_is_what_its_program_prints_and_parses(self):
        for program, binary in BINARIES.items():
            with self.subTest(program=program):
                script = COMPLETIONS / program
                printed = subprocess.run([binary, "completion"], capture_output=True,
                                         text=True, timeout=30, check=True).stdout
                self.assertEqual(script.read_text(), printed)
                check = subprocess.run(["bash", "-n", str(script)], capture_output=True,
                                       text=True)
                self.assertEqual(check.returncode, 0, check.stderr)

    def test_every_subcommand_in_help_is_offered(self):
        for program in BINARIES:
            with self.subTest(program=program):
                listed = top_level_subcommands(program)
                self.assertIn("completion", listed)
                self.assertGreaterEqual(len(listed), 4, listed)
                self.assertEqual(sorted(complete(program, "")), sorted(listed))


class Words(unittest.TestCase):
    def test_subcommands_at_each_level(self):
        self.assertEqual(complete("valise", "ti"), ["ticket"])
        self.assertIn("list", complete("valise", "ticket", ""))
        self.assertEqual(complete("valise", "ticket", "re"), ["resolve", "reopen", "resume"])
        self.assertEqual(complete("valise-server", "token", "cr"), ["create"])
        self.assertEqual(complete("valise-server", "audit", ""), ["verify"])

    def test_options_of_the_current_subcommand(self):
        offered = complete("valise-server", "token", "create", "--")
        for option in ("--role", "--name", "--data", "--help"):
            self.assertIn(option, offered)
        self.assertNotIn("--recipient", offered)  # init's
        self.assertEqual(complete("valise", "bundle", "get", "--fo"), ["--force"])

    def test_inherited_options(self):
        self.assertEqual(complete("valise-agent", "--con"), ["--config"])
        self.assertEqual(complete("valise-agent", "collect", "--con"), ["--config"])
        self.assertIn("-c", complete("valise-agent", "jobs", "-"))

    def test_an_options_value_is_skipped(self):
        # `collect` is -c's value here, not the subcommand.
        self.assertIn("collect", complete("valise-agent", "-c", "collect", ""))
        self.assertEqual(complete("valise-agent", "-c", "x", "collect", "--pro"), ["--profile"])

    def test_no_words_for_a_value_nothing_can_guess(self):
        self.assertEqual(complete("valise-server", "token", "create", "--name", ""), [])
        self.assertEqual(complete("valise", "ticket", "create", "--title", "x"), [])

    def test_choices(self):
        self.assertEqual(complete("valise", "ticket", "list", "--status", ""), ["open", "resolved"])
        self.assertEqual(complete("valise", "ticket", "list", "--severity", "s"), ["semi-blocking"])
        # --status=r, as bash splits it at '='
        self.assertEqual(complete("valise", "ticket", "list", "--status", "=", "r"), ["resolved"])
        self.assertEqual(complete("valise", "ticket", "list", "--status", "="), ["open", "resolved"])
        self.assertIn("awaiting_approval", complete("valise", "request", "list", "--state", ""))
        self.assertEqual(complete("valise-server", "token", "create", "--role", ""),
                         ["admin", "technician"])
        self.assertEqual(complete("valise-server", "user", "add", "--role", "a"), ["admin"])


class Paths(unittest.TestCase):
    def setUp(self):
        self.dir = Path(tempfile.mkdtemp(prefix="valise-completion-"))
        self.addCleanup(shutil.rmtree, self.dir)
        (self.dir / "bundle.age").write_bytes(b"")
        (self.dir / "agent.toml").write_bytes(b"")
        (self.dir / "data").mkdir()

    def test_files_for_file_options_and_arguments(self):
        d = str(self.dir)
        self.assertEqual(complete("valise", "pack", "-o", d + "/bu"), [d + "/bundle.age"])
        self.assertEqual(complete("valise-agent", "-c", d + "/ag"), [d + "/agent.toml"])
        self.assertEqual(complete("valise-agent", "--config", "=", d + "/ag"), [d + "/agent.toml"])
        self.assertEqual(complete("valise", "open", d + "/b"), [d + "/bundle.age"])
        self.assertEqual(sorted(complete("valise", "pack", d + "/")),
                         sorted([d + "/bundle.age", d + "/agent.toml", d + "/data"]))

    def test_directories_only_for_directory_options(self):
        d = str(self.dir)
        self.assertEqual(complete("valise-server", "init", "--data", d + "/"), [d + "/data"])
        self.assertEqual(complete("valise", "open", "x.age", "-d", d + "/"), [d + "/data"])


class Loader(unittest.TestCase):
    """bash-completion loads each script on demand from a completions
    directory by the program's name, as the packages install them."""

    def test_each_loads_by_its_programs_name(self):
        loader = Path("/usr/share/bash-completion/bash_completion")
        self.assertTrue(loader.exists(), "bash-completion not found: apt-get install bash-completion")
        with tempfile.TemporaryDirectory(prefix="valise-completion-") as home:
            (Path(home) / "completions").mkdir()
            for program in BINARIES:
                shutil.copy(COMPLETIONS / program, Path(home) / "completions" / program)
            for program in BINARIES:
                with self.subTest(program=program):
                    out = subprocess.run(
                        ["bash", "--norc", "--noprofile", "-c",
                         'source "$1" && __load_completion "$2" && complete -p "$2"',
                         "bash", str(loader), program],
                        capture_output=True, text=True, timeout=30,
                        env={**os.environ, "BASH_COMPLETION_USER_DIR": home})
                    function = "_" + program.replace("-", "_")
                    self.assertEqual(out.stdout.strip(), f"complete -F {function} {program}",
                                     out.stderr)


if __name__ == "__main__":
    unittest.main()
