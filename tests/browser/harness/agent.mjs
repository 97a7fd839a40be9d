// A real valise-agent for the browser tests: a profile `diag` that remote
// requests may use (it collects a log file of the test's own), delivery to
// an age key made with `valise keygen`, enrolled with the arguments a test
// read from the console's `valise-agent enroll` command, then `run` until
// stopped. The Node twin of tests/integration/agent_process.py.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { keygen } from "./keys.mjs";
import { binary } from "./server.mjs";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const toml = (value) => JSON.stringify(String(value));

export class Agent {
  constructor(workdir, serverUrl) {
    this.workdir = workdir;
    this.binary = binary("VALISE_AGENT_BIN");
    this.state = join(workdir, "agent-state");
    this.config = join(workdir, "agent.toml");
    this.socket = join(workdir, "control.sock");
    this.logPath = join(workdir, "agent.log");
    const logs = join(workdir, "site-logs");
    mkdirSync(logs, { recursive: true });
    writeFileSync(join(logs, "app.log"), "2026-12-07 10:00:01 INFO started\n2026-12-07 10:00:02 ERROR the disk is full\n");
    const { identity, recipient } = keygen(join(workdir, "support.key"));
    this.identity = identity;
    writeFileSync(
      this.config,
      `server = ${toml(serverUrl)}\nstate_dir = ${toml(this.state)}\ncontrol_socket = ${toml(this.socket)}\n` +
        `poll_timeout = "5s"\nbackoff_max = "2s"\nheartbeat_interval = "10m"\n\n` +
        `[delivery]\nrecipients = [${toml(recipient)}]\n\n` +
        `[profiles.diag]\nremote = true\nfiles = [${toml(join(logs, "*.log"))}]\n`,
    );
  }

  command(...args) {
    return execFileSync(this.binary, ["--config", this.config, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  // args: what follows `valise-agent` in the console's command (enroll --token …).
  enroll(args) {
    return this.command(...args);
  }

  get id() {
    return JSON.parse(readFileSync(join(this.state, "identity.json"), "utf8")).agent_id;
  }

  async start() {
    const log = openSync(this.logPath, "a");
    this.process = spawn(this.binary, ["--config", this.config, "run"], { stdio: ["ignore", log, log], detached: true });
    closeSync(log);
    this.exited = new Promise((resolve) => this.process.once("exit", resolve));
    const deadline = Date.now() + 30_000;
    while (!existsSync(this.socket)) {
      if (this.process.exitCode !== null) throw new Error(`valise-agent run exited:\n${this.log()}`);
      if (Date.now() > deadline) throw new Error(`valise-agent did not open its socket:\n${this.log()}`);
      await sleep(50);
    }
    return this;
  }

  async stop() {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode) return;
    this.process.kill("SIGTERM");
    await this.exited;
  }

  log() {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8") : "(no agent log)";
  }
}
