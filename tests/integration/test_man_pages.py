"""The man pages (docs/man/*.scd) against the programs they describe: every
subcommand and long option the real binaries' --help shows, every server.toml
key (with its default) the real `valise-server init` writes and every key the
agent's parser reads is documented; each generated page is lintian-clean.
Python 3 standard library.

Environment: VALISE_BIN, VALISE_AGENT_BIN, VALISE_SERVER_BIN (the programs),
VALISE_MAN_DIR (the generated pages). VALISE_MAN_SOURCE_DIR overrides
docs/man, so that the test can be run against an edited copy."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = Path(os.environ.get("VALISE_MAN_SOURCE_DIR", ROOT / "docs" / "man"))
PROGRAMS = {  # program -> (environment variable, its page)
    "valise": ("VALISE_BIN", "valise.1"),
    "valise-agent": ("VALISE_AGENT_BIN", "valise-agent.8"),
    "valise-server": ("VALISE_SERVER_BIN", "valise-server.8"),
}
PAGES = ["valise.1", "valise-agent.8", "valise-server.8", "agent.toml.5", "server.toml.5"]


def page_source(page):
    """The page's scdoc text, comments dropped, \\_ and \\* unescaped."""
    lines = (SOURCES / f"{page}.scd").read_text().splitlines()
    text = "\n".join(line for line in lines if not line.startswith("; ") and line != ";")
    return text.replace("\\_", "_").replace("\\*", "*")


def mentions(text, option):
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


def command_tree(program):
    """{path: (long options, has subcommands)}."""
    result = {}

    def walk(path):
        out = subprocess.run([program, *path, "--help"], capture_output=True, text=True,
                             timeout=30, check=True).stdout
        options, subcommands, section = set(), [], None
        for line in out.splitlines():
            if re.fullmatch(r"\w[\w ]*:", line):
                section = line[:-1]
            elif section == "Options" and line.startswith("  -"):
                options.update(re.findall(r"--[\w-]+", line.split()[0]))
            elif section == "Subcommands" and re.match(r"  \S", line):
                subcommands.append(line.split()[0])
        result[path] = (options, bool(subcommands))
        for name in subcommands:
            walk((*path, name))

    walk(())
    return result


def blocks(text):
    """The page's command entries: a definition whose term, at column 0,
    starts with the command's words in bold (`*token create* ...`), up to the
    next entry or heading. {"token create": text}."""
    out, name, body = {}, None, []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        entry = re.match(r"\*([a-z][\w-]*(?: [a-z][\w-]*)*)\*", line)
        if entry and not (i + 1 < len(lines) and lines[i + 1].startswith("\t")):
            entry = None  # a paragraph that starts with a command's name
        if entry or line.startswith("#"):
            if name:
                out.setdefault(name, "\n".join(body))
            name, body = (entry.group(1), [line]) if entry else (None, [])
        elif name:
            body.append(line)
    if name:
        out.setdefault(name, "\n".join(body))
    return out


def sections(text):
    """{"SERVER OPTIONS": text} for each `# ...` heading."""
    parts = re.split(r"^# (.+)$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


class CommandLines(unittest.TestCase):
    """Every subcommand has an entry; each of its long options is in that
    entry, or in a `# ... OPTIONS` section the entry names (`_server
    options_`); the program's own options are in its OPTIONS section."""

    def check_program(self, program):
        variable, page = PROGRAMS[program]
        binary = os.environ[variable]
        text = page_source(page)
        entries = blocks(text)
        shared = {name.lower(): body for name, body in sections(text).items()
                  if name.endswith("OPTIONS") and name != "OPTIONS"}
        for path, (options, has_subcommands) in command_tree(binary).items():
            name = " ".join(path)
            if not path:
                for option in options:
                    with self.subTest(program=program, option=option):
                        self.assertTrue(mentions(sections(text)["OPTIONS"], option),
                                        f"{page}.scd: OPTIONS does not document {option}")
                continue
            own = options - {"--help"}
            if has_subcommands and not own:
                continue  # a group: its subcommands have the entries
            with self.subTest(program=program, command=name):
                self.assertTrue(name in entries, f"{page}.scd: no entry `*{name}* ...` for "
                                                 f"`{program} {name}`")
                body = entries[name]
                for option in sorted(own):
                    named = [section for section in shared if section in body.lower()]
                    self.assertTrue(
                        mentions(body, option) or
                        any(mentions(shared[section], option) for section in named),
                        f"{page}.scd: `{program} {name}` takes {option}, but neither its "
                        f"entry nor a section it names ({', '.join(named) or 'none'}) "
                        f"documents it")

    def test_valise(self):
        self.check_program("valise")

    def test_valise_agent(self):
        self.check_program("valise-agent")

    def test_valise_server(self):
        self.check_program("valise-server")


class ConfigKeys(unittest.TestCase):
    def test_server_toml(self):
        """Each key of the commented server.toml that `init` writes has an entry
        `*key* = DEFAULT` under its `## [section]`."""
        text = page_source("server.toml.5")
        parts = re.split(r"^## \[(\w+)\]$", text, flags=re.M)
        documented = {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "data"
            subprocess.run([os.environ["VALISE_SERVER_BIN"], "init", "--data", str(data)],
                           capture_output=True, text=True, timeout=60, check=True)
            written = (data / "server.toml").read_text()
        keys, section, default = [], None, None
        for line in written.splitlines():
            if m := re.fullmatch(r"\[(\w+)\]", line):
                section = m.group(1)
            elif m := re.fullmatch(r"# .* Default: (.*)\.", line):
                default = m.group(1)
            elif m := re.fullmatch(r"(\w+) = .*", line):
                keys.append((section, m.group(1), default))
        self.assertGreater(len(keys), 30, written)
        for section, key, default in keys:
            with self.subTest(key=f"{section}.{key}"):
                self.assertIn(section, documented, f"server.toml.5.scd: no `## [{section}]`")
                entry = rf"(?m)^\*{re.escape(key)}\* = {re.escape(default)}$"
                self.assertTrue(re.search(entry, documented[section]),
                                f"server.toml.5.scd: [{section}] lacks `*{key}* = {default}`")

    def test_helpdesk_keys(self):
        """Each key a [helpdesk.NAME] table takes (connector_config.cpp's
        `key == "..."`) is an entry of server.toml.5.scd's `## [helpdesk.NAME]`."""
        parser = (ROOT / "server" / "src" / "helpdesk" / "connector_config.cpp").read_text()
        keys = set(re.findall(r'key == "(\w+)"', parser))
        self.assertGreater(len(keys), 25, keys)
        text = page_source("server.toml.5")
        section = text.split("## [helpdesk.NAME]", 1)[1].split("\n# ", 1)[0]
        for key in sorted(keys):
            with self.subTest(key=key):
                self.assertRegex(section, rf"(?m)^\*{key}\* = ",
                                 f"server.toml.5.scd: [helpdesk.NAME] lacks `*{key}* = ...`")

    def test_agent_toml(self):
        """Each key the agent's parser takes (table_reader `r` for sections,
        `t` for the tables inside commands and redact) and each key of the
        fuzz corpus's every-key config is in agent.toml.5.scd: section keys as
        entries (`*key* ...` at column 0), the inner ones by name."""
        parser = (ROOT / "agent" / "src" / "config" / "agent_config.cpp").read_text()
        section_keys = set(re.findall(r"\(r, \"(\w+)\"", parser))
        section_keys |= set(re.findall(r"r\.take\(\"(\w+)\"\)", parser))
        section_keys |= set(re.findall(r"for \(const char\* key : \{([^}]*)\}", parser)[0]
                            .replace('"', "").replace(",", " ").split())
        inner_keys = set(re.findall(r"\(t, \"(\w+)\"", parser))
        corpus = ROOT / "tests" / "fuzz" / "corpus" / "config_fuzz" / "agent_every_key.toml"
        section_keys |= set(re.findall(r"(?m)^(\w+) =", corpus.read_text()))
        section_keys -= {"delivery", "profiles"}  # tables, with sections of their own
        self.assertGreater(len(section_keys), 30, section_keys)
        self.assertGreater(len(inner_keys), 4, inner_keys)
        text = page_source("agent.toml.5")
        for key in sorted(section_keys):
            with self.subTest(key=key):
                self.assertTrue(re.search(rf"(?m)^\*{key}\*( |$)", text),
                                f"agent.toml.5.scd: no entry `*{key}* ...`")
        for key in sorted(inner_keys):
            with self.subTest(key=key):
                self.assertTrue(mentions(text, key), f"agent.toml.5.scd: {key} is not named")


    def test_agent_errors_name_the_page(self):
        """An unknown key sends the site's administrator to agent.toml(5),
        which is installed, rather than to the repository's docs."""
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "agent.toml"
            config.write_text('[delivery]\nrecipent = []\n')
            run = subprocess.run([os.environ["VALISE_AGENT_BIN"], "-c", str(config), "jobs"],
                                 capture_output=True, text=True, timeout=30)
        self.assertEqual(run.returncode, 1, run.stderr)
        self.assertIn("unknown setting delivery.recipent: agent.toml(5) lists every delivery "
                      "setting", run.stderr)
        self.assertIn("man 5 agent.toml", run.stderr)


class Rendering(unittest.TestCase):
    def test_pages_are_lintian_clean(self):
        """What lintian's manpage check runs must print nothing, and lexgrog
        (mandb's whatis parser) must find the NAME line."""
        man, lexgrog = shutil.which("man"), shutil.which("lexgrog")
        self.assertIsNotNone(man, "man not found: apt-get install man-db")
        self.assertIsNotNone(lexgrog, "lexgrog not found: apt-get install man-db")
        environment = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
        for page in PAGES:
            with self.subTest(page=page):
                path = Path(os.environ["VALISE_MAN_DIR"]) / page
                self.assertTrue(path.is_file(), f"{path} was not generated")
                run = subprocess.run([man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                                      str(path)], capture_output=True, text=True,
                                     env=environment, timeout=60)
                self.assertEqual(run.returncode, 0, run.stderr)
                self.assertEqual(run.stderr, "", f"{page}: man --warnings")
                whatis = subprocess.run([lexgrog, str(path)], capture_output=True, text=True,
                                        timeout=60)
                name = page.rsplit(".", 1)[0]
                self.assertEqual(whatis.returncode, 0, whatis.stdout + whatis.stderr)
                self.assertIn(f'"{name} - ', whatis.stdout)


if __name__ == "__main__":
    unittest.main()
