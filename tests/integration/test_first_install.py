"""What the packages do on first install, with the real programs: valise-server
configured by a server.toml outside its data directory (the package's
/etc/valise/server.toml, a conffile that init fills the data_dir of without
rewriting it), `status` as the units' ExecCondition (exit 0 with a summary, or 1
with one line saying what to do), the shipped server.toml printed from the key
table, init and enroll run as root beside services that run as another user,
and the shipped agent.toml. Python 3 standard library only.

VALISE_SERVER_BIN, VALISE_AGENT_BIN: the built programs; VALISE_SERVER_CONFFILE:
the server.toml the build wrote for installation."""
import json
import os
import pwd
import re
import ssl
import subprocess
import sys
import tempfile
import tomllib
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE.parent / "interop"))
from agent_process import AgentProcess, agent_binary  # noqa: E402
from server_process import ServerProcess, free_port, server_binary  # noqa: E402

AGENT_CONFFILE = ROOT / "config" / "agent.toml"
AGENT_PARSER = ROOT / "agent" / "src" / "config" / "agent_config.cpp"
SERVER_CONFFILE = Path(os.environ.get("VALISE_SERVER_CONFFILE", "(VALISE_SERVER_CONFFILE unset)"))
NOT_ENROLLED = ("valise-agent is not enrolled: run sudo -u valise-agent valise-agent {}enroll "
                "--token TOKEN --ca-fingerprint SHA256:... --server URL, then systemctl start "
                "valise-agent\n")


def run(binary, *args, user=None, stdin=None):
    return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, timeout=120,
                          input=stdin, stdin=None if stdin is not None else subprocess.DEVNULL,
                          user=user)


def packaged_config(binary, path, **settings):
    """The shipped server.toml with [server] keys replaced (TOML values)."""
    text = run(binary, "config", "--default").stdout
    for key, value in settings.items():
        text, n = re.subn(rf"(?m)^{key} = .*$", f"{key} = {value}", text, count=1)
        assert n == 1, key
    path.write_text(text)
    return path


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.binary = server_binary()
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-first-install-")
        self.work = Path(self.tmp.name)
        self.work.chmod(0o755)  # for `nobody` to traverse
        self.config = self.work / "etc" / "server.toml"
        self.config.parent.mkdir()
        self.data = self.work / "data"

    def tearDown(self):
        self.tmp.cleanup()

    def server(self, *args, **kw):
        return run(self.binary, *args, **kw)

    def write_config(self, **settings):
        settings.setdefault("data_dir", f'"{self.data}"')
        return packaged_config(self.binary, self.config, **settings)

    def assert_one_line(self, result, text, code=1):
        self.assertEqual(result.returncode, code, result.stdout + result.stderr)
        self.assertEqual(result.stderr, text)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)


class ConfigModeInit(ServerTest):
    def test_init_fills_the_data_dir_of_the_config_and_leaves_the_file_alone(self):
        self.write_config(hostname='"collector.example"')
        before = self.config.read_bytes()
        self.data.mkdir()  # as systemd-tmpfiles or StateDirectory= leave it: empty
        init = self.server("init", "--config", self.config)
        self.assertEqual(init.returncode, 0, init.stderr)
        self.assertEqual(self.config.read_bytes(), before, "init rewrote the conffile")
        self.assertFalse((self.data / "server.toml").exists())
        for name in ("ca.pem", "valise.db", "tls/server.pem", "tls/server.key", "tls/ca.key"):
            self.assertTrue((self.data / name).is_file(), name)
        self.assertEqual(self.data.stat().st_mode & 0o777, 0o700)
        lines = init.stdout.strip().splitlines()
        token = lines[lines.index("admin token (shown once, keep it safe):") + 1]
        self.assertTrue(token.startswith("vsa_"), init.stdout)
        self.assertEqual(lines[-3:], [
            "next:", "  systemctl start valise-server",
            f"  valise-server user add --config {self.config} --role admin NAME   (a console "
            "sign-in; asks for the password)"])
        listed = self.server("token", "list", "--config", self.config)
        self.assertIn(" admin ", listed.stdout)

    def test_a_relative_data_dir_is_under_the_files_directory(self):
        self.write_config(hostname='"localhost"', data_dir='"state"')
        self.assertEqual(self.server("init", "--config", self.config).returncode, 0)
        self.assertTrue((self.config.parent / "state" / "valise.db").is_file())

    def test_init_refuses_the_settings_that_belong_in_the_file(self):
        self.write_config(hostname='"localhost"')
        for flag, value in (("--listen", "0.0.0.0:9443"), ("--hostname", "x.example"),
                            ("--recipient", "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")):
            with self.subTest(flag=flag):
                self.assert_one_line(
                    self.server("init", "--config", self.config, flag, value),
                    "valise-server: --listen, --hostname and --recipient are for init --data: "
                    "set [server] listen, [server] hostname and [keys] recipients in "
                    f"{self.config}\n")
        self.assertFalse(self.data.exists())

    def test_init_refuses_an_empty_hostname(self):
        self.write_config()  # the shipped file leaves it empty
        self.assert_one_line(
            self.server("init", "--config", self.config),
            f"valise-server: set [server] hostname in {self.config} to the name clients use, "
            "then run init again\n")
        self.assertFalse(self.data.exists())

    def test_init_refuses_a_data_dir_that_is_not_empty(self):
        self.write_config(hostname='"localhost"')
        self.data.mkdir()
        (self.data / "old.db").write_text("someone's")
        self.assert_one_line(
            self.server("init", "--config", self.config),
            f"valise-server: {self.data} is not empty: init only fills a new data directory\n")
        self.assertEqual(sorted(p.name for p in self.data.iterdir()), ["old.db"])

    def test_init_without_a_config_file_says_how_to_write_one(self):
        missing = self.work / "nothing.toml"
        self.assert_one_line(
            self.server("init", "--config", missing),
            f"valise-server: {missing} does not exist: write one with `valise-server config "
            f"--default > {missing}`, set [server] hostname in it, run init again\n")

    def test_config_and_data_exclude_each_other(self):
        result = self.server("status", "--config", self.config, "--data", self.data)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("excludes", result.stderr)

    def test_run_refuses_an_empty_hostname(self):
        self.write_config()
        result = self.server("run", "--config", self.config)
        self.assertEqual(result.returncode, 1)
        self.assertIn(f"valise-server: [server] hostname is empty in {self.config}\n",
                      result.stderr)


class Status(ServerTest):
    def test_each_reason_is_one_line_and_exit_1_or_255_when_broken(self):
        missing = self.work / "nothing.toml"
        self.assert_one_line(
            self.server("status", "--config", missing),
            f"valise-server is not initialised: {missing} does not exist: write it with "
            f"`valise-server config --default > {missing}`, set [server] hostname in it and "
            f"run: sudo valise-server init --config {missing}\n")
        self.write_config()
        self.assert_one_line(
            self.server("status", "--config", self.config),
            f"valise-server is not initialised: set [server] hostname in {self.config} and run: "
            f"sudo valise-server init --config {self.config}\n")
        self.write_config(hostname='"localhost"')
        self.assert_one_line(
            self.server("status", "--config", self.config),
            f"valise-server is not initialised: {self.data} has no database: run: sudo "
            f"valise-server init --config {self.config}\n")
        self.config.write_text(self.config.read_text().replace('min_version = "1.2"',
                                                               'min_version = "1.1"'))
        self.assert_one_line(
            self.server("status", "--config", self.config),
            f"valise-server cannot start: {self.config}: tls.min_version must be \"1.2\" or "
            "\"1.3\": fix the file\n", code=255)
        text = self.config.read_text().replace('threads = 2', 'threads = "two"')
        self.config.write_text(text)
        line = text.splitlines().index('threads = "two"') + 1
        self.assert_one_line(
            self.server("status", "--config", self.config),
            f"valise-server cannot start: {self.config}:{line}: server.threads: expected a "
            "non-negative integer: fix the file\n", code=255)

    def test_a_hostname_with_a_scheme_or_port_is_refused(self):
        for wrong in ("https://collector.example.com:8443", "collector.example.com:8443",
                      "collector example", "-collector.example"):
            with self.subTest(hostname=wrong):
                self.write_config(hostname=f'"{wrong}"')
                self.assert_one_line(
                    self.server("status", "--config", self.config),
                    f"valise-server cannot start: {self.config}: server.hostname \"{wrong}\" is "
                    "not a host name: write the name clients use, such as collector.example.com, "
                    "without a scheme, port or path: fix the file\n", code=255)
        init = self.server("init", "--data", self.data, "--hostname", "https://x.example")
        self.assertEqual(init.returncode, 1)
        self.assertIn("--hostname https://x.example is not a host name", init.stderr)
        self.assertFalse(self.data.exists(), "nothing made")
        for right in ("collector.example.com", "localhost", "192.0.2.7", "2001:db8::7"):
            self.write_config(hostname=f'"{right}"')
            self.assertNotIn("host name", self.server("status", "--config", self.config).stderr)

    def test_the_default_is_the_packages_file(self):
        result = self.server("status")
        self.assertEqual(result.returncode, 1)
        self.assertIn("/etc/valise/server.toml", result.stderr)
        self.assertEqual(len(result.stderr.splitlines()), 1, result.stderr)

    def test_ready_prints_the_summary(self):
        self.write_config(hostname='"collector.example"', listen='"127.0.0.1:9443"')
        self.assertEqual(self.server("init", "--config", self.config).returncode, 0)
        fingerprint = self.server("ca-fingerprint", "--config", self.config).stdout.strip()
        self.assertRegex(fingerprint, r"^SHA256:[0-9a-f]{64}$")
        status = self.server("status", "--config", self.config)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertEqual(status.stderr, "")
        self.assertEqual(status.stdout.splitlines(), [
            f"config file:    {self.config}", f"data directory: {self.data}",
            "listen:         127.0.0.1:9443", "hostname:       collector.example",
            "leader:         this node (SQLite: the one node)", f"CA fingerprint: {fingerprint}"])

    def test_data_mode_says_the_same(self):
        self.assert_one_line(
            self.server("status", "--data", self.data),
            f"valise-server is not initialised: {self.data}/server.toml does not exist: run: "
            f"valise-server init --data {self.data} --hostname NAME\n")
        init = self.server("init", "--data", self.data, "--hostname", "localhost")
        self.assertEqual(init.returncode, 0, init.stderr)
        self.assertTrue(init.stdout.strip().splitlines()[-1].startswith("vsa_"))
        self.assertIn('\ndata_dir = ""\n', (self.data / "server.toml").read_text(),
                      "init --data writes a directory that can move")
        status = self.server("status", "--data", self.data)
        self.assertEqual(status.returncode, 0, status.stderr)
        self.assertIn(f"data directory: {self.data}\n", status.stdout)


class PackagedServer(ServerProcess):
    """ServerProcess with its settings in a server.toml outside the data
    directory, as the package installs them."""

    def start(self):
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"https://127.0.0.1:{self.port}"
        self.config_file = packaged_config(
            self.binary, self.workdir / "server.toml", data_dir=f'"{self.data}"',
            hostname='"localhost"', listen=f'"127.0.0.1:{self.port}"')
        self.admin_token = self._command("init", "--config", str(self.config_file)) \
            .split("keep it safe):\n")[1].splitlines()[0]
        self.ca = self.data / "ca.pem"
        self.technician_token = self._command(
            "token", "create", "--config", str(self.config_file), "--name", "interop").strip()
        self._ssl = ssl.create_default_context(cafile=str(self.ca))
        self._run_on_a_free_port(self.config_file)

    def location(self):
        return ["--config", str(self.config_file)]


class EveryCommand(ServerTest):
    def leaf_commands(self, path=()):
        """Each subcommand without subcommands of its own, from the CLI's help."""
        text = self.server(*path, "--help").stdout
        names = re.findall(r"(?m)^  ([a-z-]+)\s", text.split("\nSubcommands:\n")[1]) \
            if "\nSubcommands:\n" in text else []
        if not names:
            return [path]
        return [leaf for name in names for leaf in self.leaf_commands((*path, name))]

    def test_every_subcommand_takes_config_and_data(self):
        leaves = self.leaf_commands()
        self.assertGreaterEqual(len(leaves), 15, leaves)
        self.assertIn(("completion",), leaves)
        for leaf in leaves:
            if leaf == ("completion",):
                continue  # prints the bash completion script: no server to read
            with self.subTest(command=" ".join(leaf)):
                text = self.server(*leaf, "--help").stdout
                self.assertIn("--config", text)
                self.assertIn("--data", text)

    def test_each_works_with_config(self):
        with PackagedServer(self.work / "srv") as server:
            status, _, _ = server.request("GET", "/healthz")
            self.assertEqual(status, 200)
            c = ["--config", str(server.config_file)]
            self.assertEqual(server.command("status", *c).splitlines()[1],
                             f"data directory: {server.data}")
            self.assertTrue(server.command("enroll-token", "create", *c).startswith("vse_"))
            created = run(self.binary, "user", "add", *c, "--role", "admin", "ada",
                          stdin="correct horse battery staple\n")
            self.assertEqual(created.stdout, "created admin ada\n", created.stderr)
            run(self.binary, "user", "passwd", *c, "ada", stdin="another good long password\n")
            self.assertIn("disabled ada", server.command("user", "disable", *c, "ada"))
            self.assertIn("enabled ada", server.command("user", "enable", *c, "ada"))
            self.assertIn("ada", server.command("user", "list", *c))
            self.assertIn("interop", server.command("token", "list", *c))
            self.assertIn("revoked interop", server.command("token", "revoke", *c, "interop"))
            self.assertEqual(server.command("ca-fingerprint", *c).strip(),
                             server.command("status", *c).splitlines()[-1].split(": ")[1])
            self.assertIn("audit chain intact", server.command("audit", "verify", *c))
            self.assertIn(f'data_dir = "{server.data}"', server.command("config", *c))
            self.assertFalse((server.data / "server.toml").exists())


class ShippedServerConfig(ServerTest):
    def test_the_build_installs_what_config_default_prints(self):
        printed = self.server("config", "--default")
        self.assertEqual(printed.returncode, 0, printed.stderr)
        self.assertEqual(SERVER_CONFFILE.read_text(), printed.stdout)
        self.assertIn('\ndata_dir = "/var/lib/valise-server"\n', printed.stdout)
        self.assertIn('\nhostname = ""\n', printed.stdout)
        self.assertIn('\nlisten = "0.0.0.0:8443"\n', printed.stdout)
        # It parses: `config` reads it and prints the same settings back.
        again = self.server("config", "--config", SERVER_CONFFILE)
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertEqual(again.stdout, printed.stdout)
        self.assertIn("set [server] hostname",
                      self.server("status", "--config", SERVER_CONFFILE).stderr)


class RootOwnership(ServerTest):
    def test_init_as_root_gives_a_services_directory_its_files(self):
        self.assertEqual(os.geteuid(), 0, "run the tests as root (the CI container does)")
        nobody = pwd.getpwnam("nobody")
        self.data.mkdir(mode=0o700)
        os.chown(self.data, nobody.pw_uid, nobody.pw_gid)
        self.write_config(hostname='"localhost"')
        init = self.server("init", "--config", self.config)
        self.assertEqual(init.returncode, 0, init.stderr)
        made = list(self.data.rglob("*"))
        self.assertGreaterEqual(len(made), 6)
        for path in made:
            st = path.lstat()
            self.assertEqual((st.st_uid, st.st_gid), (nobody.pw_uid, nobody.pw_gid), path)
        # ...so the service's user can run it: status as `nobody` reads it all.
        status = self.server("status", "--config", self.config, user="nobody")
        self.assertEqual(status.returncode, 0, status.stderr)

    def test_a_data_directory_reached_through_a_link_gets_its_files_too(self):
        nobody = pwd.getpwnam("nobody")
        real = self.work / "real-data"
        real.mkdir(mode=0o700)
        os.chown(real, nobody.pw_uid, nobody.pw_gid)
        self.data.symlink_to(real)
        self.write_config(hostname='"localhost"')
        init = self.server("init", "--config", self.config)
        self.assertEqual(init.returncode, 0, init.stderr)
        self.assertEqual({p.lstat().st_uid for p in real.rglob("*")}, {nobody.pw_uid})

    def test_a_directory_root_owns_stays_roots(self):
        self.write_config(hostname='"localhost"')
        self.assertEqual(self.server("init", "--config", self.config).returncode, 0)
        self.assertEqual({p.lstat().st_uid for p in self.data.rglob("*")}, {os.geteuid()})


class AgentTest(unittest.TestCase):
    def setUp(self):
        self.binary = agent_binary()
        self.tmp = tempfile.TemporaryDirectory(prefix="valise-first-install-")
        self.work = Path(self.tmp.name)
        self.work.chmod(0o755)

    def tearDown(self):
        self.tmp.cleanup()

    def agent(self, config, *args, user=None):
        return run(self.binary, "--config", config, *args, user=user)


class ShippedAgentConfig(AgentTest):
    def parser_keys(self):
        source = AGENT_PARSER.read_text()
        keys = set(re.findall(r'\btake\("(\w+)"\)', source))
        keys |= set(re.findall(r'\bread\w*\(\w+, "(\w+)"', source))
        for group in re.findall(r"for \(const char\* key : \{([^}]*)\}", source):
            keys |= set(re.findall(r'"(\w+)"', group))
        return keys

    def test_every_key_the_parser_reads_is_documented(self):
        keys = self.parser_keys()
        # The patterns above still find what the parser reads.
        self.assertGreaterEqual(len(keys), 40, sorted(keys))
        self.assertLessEqual({"server", "recipients", "remote", "redact", "argv", "exclude"}, keys)
        text = AGENT_CONFFILE.read_text()
        for key in sorted(keys):
            with self.subTest(key=key):
                self.assertTrue(re.search(rf"(?m)(^#? ?|[{{,] ){key} = |^\[{key}[.\]]", text),
                                f"{AGENT_CONFFILE} documents no {key} = ... line")

    def test_no_profile_is_open_to_remote_requests(self):
        shipped = tomllib.loads(AGENT_CONFFILE.read_text())
        self.assertNotIn("server", shipped)
        self.assertTrue(shipped["profiles"], "an example profile")
        for name, profile in shipped["profiles"].items():
            self.assertIs(profile.get("remote"), False, name)
        self.assertNotRegex(AGENT_CONFFILE.read_text(), r"(?m)^\s*remote\s*=\s*true")

    def test_it_parses_as_shipped_and_says_not_enrolled(self):
        # The shipped state_dir is /var/lib/valise-agent; the same file with
        # this test's own, so that nothing on this machine counts.
        config = self.work / "agent.toml"
        config.write_text(f'state_dir = "{self.work / "state"}"\n' + AGENT_CONFFILE.read_text())
        result = self.agent(config, "status")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, NOT_ENROLLED.format(f"--config {config} "))
        shipped = self.agent(AGENT_CONFFILE, "status")
        self.assertEqual(shipped.returncode, 1)
        self.assertNotIn("cannot start", shipped.stderr)


class AgentStatus(AgentTest):
    def test_a_wrong_config_is_one_line_naming_file_and_line(self):
        config = self.work / "agent.toml"
        config.write_text('state_dir = "/tmp"\npoll_timout = "5s"\n')
        result = self.agent(config, "status")
        self.assertEqual(result.returncode, 255, "a broken config fails the unit")
        self.assertEqual(result.stderr,
                         f"valise-agent cannot start: {config}:2: unknown setting poll_timout: "
                         f"agent.toml(5) lists every setting (fix {config})\n")

    def test_enrolled_it_prints_the_summary(self):
        with ServerProcess(self.work / "srv") as server:
            profiles = ('[profiles.web]\nremote = true\nfacts = false\n'
                        '[profiles.local]\nfacts = false\n')
            agent = AgentProcess(self.work, server.url, profiles)
            self.assertEqual(agent.command("status", check=False).stderr,
                             NOT_ENROLLED.format(f"--config {agent.config} "))
            enrolled = agent.enroll(server.create_enroll_token(), server.ca)
            self.assertTrue(enrolled.stdout.endswith("\nnext: systemctl start valise-agent\n"),
                            enrolled.stdout)
            agent_id = json.loads((agent.state / "identity.json").read_text())["agent_id"]
            status = agent.command("status", check=False)
            self.assertEqual(status.returncode, 0, status.stderr)
            lines = status.stdout.splitlines()
            self.assertEqual(lines[1], f"server:           {server.url}")
            self.assertEqual(lines[2], f"agent id:         {agent_id}")
            self.assertRegex(lines[3], r"^certificate until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ ")
            self.assertEqual(lines[4], "remote profiles:  web")

    def test_enroll_as_root_gives_the_state_directory_its_files(self):
        self.assertEqual(os.geteuid(), 0, "run the tests as root (the CI container does)")
        nobody = pwd.getpwnam("nobody")
        with ServerProcess(self.work / "srv") as server:
            agent = AgentProcess(self.work, server.url, "")
            agent.state.mkdir(mode=0o700)
            os.chown(agent.state, nobody.pw_uid, nobody.pw_gid)
            agent.enroll(server.create_enroll_token(), server.ca)
            made = list(agent.state.rglob("*"))
            self.assertGreaterEqual(len(made), 4)
            for path in made:
                self.assertEqual(path.lstat().st_uid, nobody.pw_uid, path)
            self.assertEqual(self.agent(agent.config, "status", user="nobody").returncode, 0)

    def test_enroll_as_root_follows_no_link_the_services_user_planted(self):
        # What the service's user left in its directory: a link to a file of
        # root's and a link to a directory of root's. Root's enroll must give
        # neither target away.
        nobody = pwd.getpwnam("nobody")
        victims = self.work / "roots"
        victims.mkdir()
        (victims / "secret").write_text("root's\n")
        with ServerProcess(self.work / "srv") as server:
            agent = AgentProcess(self.work, server.url, "")
            agent.state.mkdir(mode=0o700)
            (agent.state / "file-link").symlink_to(victims / "secret")
            (agent.state / "dir-link").symlink_to(victims)
            for path in (agent.state, agent.state / "file-link", agent.state / "dir-link"):
                os.chown(path, nobody.pw_uid, nobody.pw_gid, follow_symlinks=False)
            agent.enroll(server.create_enroll_token(), server.ca)
            self.assertEqual((agent.state / "agent.key").lstat().st_uid, nobody.pw_uid)
        for path in (victims, victims / "secret"):
            self.assertEqual(path.stat().st_uid, 0, path)


if __name__ == "__main__":
    unittest.main()
