"""The Debian packages, installed on this machine as an operator would:
lintian, `apt-get install ./valise*.deb`, what lands where, the server and
the agent run as their units say (tests/packaging/unit_runner.py), an
enrolled agent answering a technician's request end to end, an upgrade from
packages built from an older commit that keeps config and data, and what
`apt-get purge` leaves (docs/operations.md, "Removing the packages").

Needs root. The packages come from VALISE_PACKAGES (scripts/test builds them
with scripts/package), the older ones from VALISE_OLD_PACKAGES. Each test
leaves the machine as it found it: a machine that already has valise
installed is refused, never changed. Python 3 standard library only."""
import grp
import hashlib
import os
import pwd
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
from pathlib import Path

from unit_runner import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "interop"))
from server_process import free_port  # noqa: E402

PACKAGES = ("valise", "valise-agent", "valise-server")
UNITS = Path("/lib/systemd/system")
SERVER_CONFIG = Path("/etc/valise/server.toml")
AGENT_CONFIG = Path("/etc/valise/agent.toml")
SERVER_DATA = Path("/var/lib/valise-server")
AGENT_STATE = Path("/var/lib/valise-agent")
TEST_LOGS = Path("/var/log/valise-packaging-test")
USERS = ("valise", "valise-agent")
# Where an installation could leave something behind; compared before and
# after (see assert_machine_as_before).
WATCHED = ("/etc", "/usr", "/lib", "/opt", "/srv", "/var/lib", "/var/log")
# Files the tools that add and remove users rewrite, and dpkg's and apt's own
# bookkeeping: they change with any package, not because of valise.
BOOKKEEPING = re.compile(r"^(/etc/(passwd|group|shadow|gshadow)-$|/var/lib/(dpkg|apt)/|"
                         r"/var/log/(apt|dpkg)|"
                         # deb-systemd-helper's state folders, never what is in them
                         r"/var/lib/systemd/deb-systemd-helper-(enabled|masked)"
                         r"(/[^/]+\.wants)?$)")


def package_files(variable):
    folder = Path(os.environ.get(variable, ""))
    debs = sorted(folder.glob("*.deb")) if folder.is_dir() else []
    # The -dbgsym packages (debug symbols) are built too; nobody installs them here.
    debs = [deb for deb in debs if not deb.name.split("_")[0].endswith("-dbgsym")]
    names = {deb.name.split("_")[0] for deb in debs}
    if names != set(PACKAGES):
        raise AssertionError(f"{variable}={folder}: expected the .deb files of {PACKAGES}, found "
                             f"{[d.name for d in debs]}; scripts/test builds them with "
                             "scripts/package")
    return debs


def run(*argv, check=True, timeout=600, user=None, env=None, input=None):
    # As an administrator would with sudo -u: the user's own groups too.
    argv = (["runuser", "-u", user, "--"] if user else []) + [str(a) for a in argv]
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=timeout, env=env, input=input,
                            stdin=None if input is not None else subprocess.DEVNULL)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, argv))} exited {result.returncode}:\n"
                             f"{result.stdout}{result.stderr}")
    return result


def apt_get(*args):
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    # An upgrade keeps the operator's edited conffiles, as unattended upgrades do.
    return run("apt-get", "-y", "-q", "-o", "Dpkg::Options::=--force-confdef",
               "-o", "Dpkg::Options::=--force-confold", *args, env=env)


def installed(package):
    result = run("dpkg-query", "-W", "-f=${db:Status-Abbrev}", package, check=False)
    return result.stdout.strip()


def user_exists(name):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


def snapshot():
    paths = set()
    for root in WATCHED:
        for folder, dirs, files in os.walk(root):
            for name in dirs + files:
                paths.add(os.path.join(folder, name))
    return paths


def set_key(text, key, value):
    """Sets the first `key = ...` line (commented or not) of a TOML file."""
    pattern = re.compile(rf"^#?\s*{re.escape(key)}\s*=.*$", re.M)
    if not pattern.search(text):
        raise AssertionError(f"no {key} line in the shipped config:\n{text}")
    return pattern.sub(f"{key} = {value}", text, count=1)


class PackagesTest(unittest.TestCase):
    """Install, use and purge; subclasses say which packages and what to do."""

    def setUp(self):
        if os.geteuid() != 0:
            self.fail("the packaging tests install packages: run them as root")
        self.fail_if_dirty()
        self.before = snapshot()
        self.work = Path(tempfile.mkdtemp(prefix="valise-packaging-"))
        os.chmod(self.work, 0o755)
        self.units = []
        self.addCleanup(self.clean_up)

    def fail_if_dirty(self):
        present = [p for p in PACKAGES if installed(p) not in ("", "un")]
        present += [str(p) for p in (SERVER_CONFIG.parent, SERVER_DATA, AGENT_STATE) if p.exists()]
        present += [u for u in USERS if user_exists(u)]
        if present:
            self.fail(f"this machine already has {', '.join(present)}: the packaging tests "
                      "install and purge valise, so they refuse a machine where it is in use; "
                      "remove it first (apt-get purge valise valise-agent valise-server)")

    def clean_up(self):
        for unit in self.units:
            unit.stop()
        present = [p for p in PACKAGES if installed(p) not in ("", "un")]
        if present:
            # Only those dpkg knows: apt forgets a removed local package.
            apt_get("purge", *present)
        for path in (SERVER_DATA, AGENT_STATE, SERVER_CONFIG.parent, TEST_LOGS):
            shutil.rmtree(path, ignore_errors=True)
        for name in USERS:
            if user_exists(name):
                run("userdel", name, check=False)
        shutil.rmtree(self.work, ignore_errors=True)

    def unit(self, name):
        unit = Unit(UNITS / f"{name}.service", self.work / f"{name}.log")
        self.units.append(unit)
        return unit

    # The server, from its conffile to a running unit.
    def set_up_server(self):
        self.port = free_port()
        text = SERVER_CONFIG.read_text()
        text = set_key(text, "hostname", '"localhost"')
        text = set_key(text, "listen", f'"127.0.0.1:{self.port}"')
        SERVER_CONFIG.write_text(text)
        out = run("valise-server", "init").stdout
        self.admin_token = out.strip().splitlines()[-1]
        self.assertIn("systemctl start valise-server", out)
        for path in SERVER_DATA.rglob("*"):
            self.assertEqual(path.owner(), "valise", f"{path} after `sudo valise-server init`")
        server = self.unit("valise-server").start()
        self.url = f"https://localhost:{self.port}"
        self.ca = str(SERVER_DATA / "ca.pem")
        return server

    def valise(self, *args, token=None):
        env = {"PATH": os.environ["PATH"], "VALISE_SERVER": self.url, "VALISE_CA": self.ca,
               "VALISE_TOKEN": token or self.technician_token, "HOME": str(self.work)}
        return run("valise", *args, env=env).stdout

    def technician(self):
        self.technician_token = run("valise-server", "token", "create", "--role", "technician",
                                    "--name", "packaging-test").stdout.strip()

    def assert_machine_as_before(self, kept=()):
        """After a purge: nothing new under WATCHED but `kept` (what
        docs/operations.md says a purge keeps) and bookkeeping; nothing gone."""
        after = snapshot()
        added = {p for p in after - self.before if not BOOKKEEPING.match(p)}
        added = {p for p in added if not any(p == k or p.startswith(k + "/") for k in kept)}
        removed = {p for p in self.before - after if not BOOKKEEPING.match(p)}
        self.assertEqual(added, set(), "left behind by a purge")
        self.assertEqual(removed, set(), "removed from the machine")


class InstallUsePurge(PackagesTest):
    def test_install_run_enroll_request_remove_purge(self):
        debs = package_files("VALISE_PACKAGES")
        apt_get("install", *debs)
        self.check_installed_files(debs)

        # First install: neither unit can start half-configured; each says why.
        code, text = self.unit("valise-server").condition()
        self.assertEqual(code, 1, text)
        self.assertIn("hostname", text)
        self.assertEqual(len(text.strip().splitlines()), 1, text)
        code, text = self.unit("valise-agent").condition()
        self.assertEqual(code, 1, text)
        self.assertIn("enroll", text)
        self.assertEqual(len(text.strip().splitlines()), 1, text)

        self.set_up_server()
        server_config = SERVER_CONFIG.read_text()
        self.technician()
        self.enroll_agent()
        self.request_diagnostics()
        for unit in self.units:
            if unit.process:
                self.assertEqual(unit.stop(), 0, unit.log())
        self.units.clear()

        # remove keeps config and data; purge removes what docs/operations.md says.
        apt_get("remove", *PACKAGES)
        for package in PACKAGES[1:]:
            self.assertEqual(installed(package), "rc", package)
        self.assertTrue(SERVER_CONFIG.exists() and AGENT_CONFIG.exists())
        self.assertTrue((SERVER_DATA / "valise.db").exists())
        for name in ("agent.key", "agent.crt", "ca.pem", "identity.json"):
            self.assertTrue((AGENT_STATE / name).exists(), f"{name} after remove")
        self.assertTrue(user_exists("valise") and user_exists("valise-agent"))
        apt_get("purge", *PACKAGES[1:])
        for name in USERS:
            self.assertFalse(user_exists(name), f"user {name} after purge")
        self.assertFalse(SERVER_CONFIG.parent.exists())
        self.assertFalse(AGENT_STATE.exists())
        self.assertTrue((SERVER_DATA / "valise.db").exists(), "the server's data after purge")
        self.assertEqual((SERVER_DATA.owner(), SERVER_DATA.group()), ("root", "root"))
        shutil.rmtree(TEST_LOGS)
        self.assert_machine_as_before(kept=[str(SERVER_DATA)])

        # Installed again, the kept directory is the service's again and
        # serves what it held.
        apt_get("install", *[deb for deb in debs if deb.name.startswith(("valise_", "valise-server_"))])
        self.assertEqual({p.owner() for p in [SERVER_DATA, *SERVER_DATA.rglob("*")]}, {"valise"})
        SERVER_CONFIG.write_text(server_config)
        self.unit("valise-server").start()
        self.assertIn("PKG-1", self.valise("ticket", "list"))

    def check_installed_files(self, debs):
        version = run("dpkg-query", "-W", "-f=${Version}", "valise").stdout
        self.assertIn(f"valise_{version}_amd64.deb", [deb.name for deb in debs])
        for program in ("valise", "valise-agent", "valise-server"):
            out = run(program, "--version").stdout.strip()
            self.assertEqual(out, f"{program} {version}")
            page = run("man", "-w", program).stdout.strip()
            self.assertTrue(page.startswith("/usr/share/man/man"), page)
            self.assertTrue(Path(f"/usr/share/bash-completion/completions/{program}").is_file())
        for page in ("agent.toml", "server.toml"):
            self.assertEqual(run("man", "-w", "5", page).stdout.strip(),
                             f"/usr/share/man/man5/{page}.5.gz")
        for unit in ("valise-agent", "valise-server"):
            self.assertTrue((UNITS / f"{unit}.service").is_file())
            # Enabled as dh_installsystemd does without systemd running.
            wants = Path(f"/etc/systemd/system/multi-user.target.wants/{unit}.service")
            self.assertTrue(wants.is_symlink(), wants)
        for name in USERS:
            user = pwd.getpwnam(name)
            self.assertLess(user.pw_uid, 1000, f"{name} is a system user")
            self.assertIn(user.pw_shell, ("/usr/sbin/nologin", "/sbin/nologin"))
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}\n", "valise-agent",
                        "valise-server").stdout
        for path in (AGENT_CONFIG, SERVER_CONFIG):
            self.assertIn(str(path), conffiles)
        # agent.toml may hold a proxy's password: not for every local user.
        self.assertEqual((AGENT_CONFIG.owner(), AGENT_CONFIG.group()), ("root", "valise-agent"))
        self.assertEqual(AGENT_CONFIG.stat().st_mode & 0o777, 0o640)
        self.assertEqual(SERVER_DATA.owner(), "valise")
        self.assertEqual(SERVER_DATA.stat().st_mode & 0o777, 0o700)
        self.assertEqual(AGENT_STATE.owner(), "valise-agent")
        self.assertTrue(Path("/usr/share/valise/web/console.html").is_file())
        self.assertFalse(Path("/usr/share/valise/web/CMakeFiles").exists())

    def enroll_agent(self):
        TEST_LOGS.mkdir(parents=True, exist_ok=True)
        (TEST_LOGS / "app.log").write_text("packaging test: request served\n")
        os.chmod(TEST_LOGS / "app.log", 0o644)
        identity = self.work / "team.key"
        run("age-keygen", "-o", identity)
        recipient = run("age-keygen", "-y", identity).stdout.strip()
        text = AGENT_CONFIG.read_text()
        if re.search(r"^\[delivery\]\s*$", text, re.M):
            text = re.sub(r"^\[delivery\]\s*$", f'[delivery]\nrecipients = ["{recipient}"]', text,
                          count=1, flags=re.M)
        else:
            text += f'\n[delivery]\nrecipients = ["{recipient}"]\n'
        text += ('\n[profiles.packaging-test]\nremote = true\n'
                 f'files = ["{TEST_LOGS}/*.log"]\n')
        AGENT_CONFIG.write_text(text)
        self.identity = identity

        token = run("valise-server", "enroll-token", "create").stdout.strip()
        fingerprint = run("valise-server", "ca-fingerprint").stdout.strip()
        run("valise-agent", "enroll", "--token", token, "--ca-fingerprint", fingerprint,
            "--server", f"https://localhost:{self.port}", user="valise-agent")
        status = run("valise-agent", "status", user="valise-agent").stdout
        self.assertIn("packaging-test", status)
        self.unit("valise-agent").start()

    def request_diagnostics(self):
        self.valise("ticket", "create", "PKG-1", "--title", "installed from the packages")
        agents = self.valise("agent", "list", "--json")
        agent_id = re.search(r'"(agt_[A-Za-z0-9]+)"', agents).group(1)
        bundle = self.valise("request", "create", "PKG-1", "--agent", agent_id, "--profile",
                             "packaging-test", "--wait").strip().splitlines()[-1]
        out = self.work / "bundle.age"
        self.valise("bundle", "get", "-q", bundle, "-o", out)
        listing = subprocess.run(
            f"age -d -i {self.identity} {out} | zstd -d | tar -xO --wildcards '*app.log'",
            shell=True, capture_output=True, text=True, check=True).stdout
        self.assertIn("packaging test: request served", listing)


class Upgrade(PackagesTest):
    def test_upgrade_from_an_older_commit_keeps_config_and_data(self):
        old = package_files("VALISE_OLD_PACKAGES")
        new = package_files("VALISE_PACKAGES")
        old_version = {deb.name.split("_")[1] for deb in old}.pop()
        new_version = {deb.name.split("_")[1] for deb in new}.pop()
        run("dpkg", "--compare-versions", new_version, "gt", old_version)
        apt_get("install", *old)
        server = self.set_up_server()
        self.technician()
        self.valise("ticket", "create", "PKG-2", "--title", "before the upgrade")
        plain = self.work / "payload.bin"
        plain.write_bytes(os.urandom(3 << 20))
        identity = self.work / "team.key"
        run("age-keygen", "-o", identity)
        payload = self.work / "payload.age"
        run("age", "-r", run("age-keygen", "-y", identity).stdout.strip(), "-o", payload, plain)
        sent = self.valise("send", "--ticket", "PKG-2", payload)
        digest = hashlib.sha256(payload.read_bytes()).hexdigest()
        bundle_id = re.search(r"\b(bdl_[A-Za-z0-9]+)", sent).group(1)
        note = "\n# kept across the upgrade\n"
        with open(AGENT_CONFIG, "a") as f:
            f.write(note)
        server_config = SERVER_CONFIG.read_text()

        apt_get("install", *new)
        self.assertEqual(run("dpkg-query", "-W", "-f=${Version}", "valise-server").stdout,
                         new_version)
        # The running server is restarted by the package: systemd is not PID 1
        # here, so check the maintainer script asks for it and do what it asks.
        postinst = Path("/var/lib/dpkg/info/valise-server.postinst").read_text()
        self.assertRegex(postinst, r"_dh_action=(try-)?restart")
        self.assertEqual(server.stop(), 0, server.log())
        self.units.remove(server)
        self.unit("valise-server").start()

        self.assertEqual(SERVER_CONFIG.read_text(), server_config)
        self.assertTrue(AGENT_CONFIG.read_text().endswith(note))
        out = self.work / "after.bin"
        self.valise("bundle", "get", "-q", bundle_id, "-o", out)
        self.assertEqual(hashlib.sha256(out.read_bytes()).hexdigest(), digest)


if __name__ == "__main__":
    unittest.main()
