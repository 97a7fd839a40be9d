// A real valise-server on loopback for the browser tests: `init` into a
// fresh data directory with a free port, a technician token, `run` until
// /healthz answers, JSON API calls over HTTPS trusting only DATA/ca.pem, and
// stop (SIGTERM), kill (SIGKILL) and restart on the same port and data.
// The Node twin of tests/interop/server_process.py.
import { execFileSync, spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import https from "node:https";
import net from "node:net";
import { join } from "node:path";

export function binary(variable) {
  const path = process.env[variable];
  if (!path || !existsSync(path)) {
    throw new Error(`${variable}=${path ?? ""}: not found; ctest sets it to the built program`);
  }
  return path;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

// Replaces keys of server.toml: {"links.max_bytes": "1000"} (TOML values).
function editConfig(path, edits) {
  const missing = new Set(Object.keys(edits));
  let section = "";
  const lines = readFileSync(path, "utf8")
    .split("\n")
    .map((line) => {
      if (line.startsWith("[")) section = line.replace(/[[\]]/g, "").trim();
      const key = `${section}.${line.split(" = ")[0]}`;
      if (key in edits) {
        missing.delete(key);
        return `${line.split(" = ")[0]} = ${edits[key]}`;
      }
      return line;
    });
  if (missing.size) throw new Error(`server.toml has no ${[...missing].join(", ")}`);
  writeFileSync(path, lines.join("\n"));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export class Server {
  constructor(workdir, { configEdits = {}, initArgs = [] } = {}) {
    this.workdir = workdir;
    this.binary = binary("VALISE_SERVER_BIN");
    this.data = join(workdir, "server-data");
    this.logPath = join(workdir, "server.log");
    this.configEdits = configEdits;
    this.initArgs = initArgs;
  }

  command(...args) {
    return execFileSync(this.binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  }

  async start() {
    this.port = await freePort();
    this.url = `https://localhost:${this.port}`;
    const out = this.command(
      "init", "--data", this.data, "--listen", `127.0.0.1:${this.port}`, "--hostname", "localhost",
      ...this.initArgs,
    );
    this.adminToken = out.trim().split("\n").pop().trim();
    if (Object.keys(this.configEdits).length) editConfig(join(this.data, "server.toml"), this.configEdits);
    this.ca = readFileSync(join(this.data, "ca.pem"));
    this.technicianToken = this.command(
      "token", "create", "--data", this.data, "--role", "technician", "--name", "browser-tests",
    ).trim();
    // freePort() only says the port was free when it looked: another
    // process may take it while init and token run. Then another port.
    for (let attempt = 1; ; ++attempt) {
      try {
        await this.run();
        return this;
      } catch (error) {
        if (!error.portTaken || attempt === 5) throw error;
      }
      const config = join(this.data, "server.toml");
      const old = `listen = "127.0.0.1:${this.port}"`;
      this.port = await freePort();
      this.url = `https://localhost:${this.port}`;
      const text = readFileSync(config, "utf8");
      if (!text.includes(old)) throw new Error(`${config} has no ${old}`);
      writeFileSync(config, text.replace(old, `listen = "127.0.0.1:${this.port}"`));
    }
  }

  // Throws an error with portTaken set if another process had its port.
  async run() {
    const logStart = existsSync(this.logPath) ? statSync(this.logPath).size : 0;
    const log = openSync(this.logPath, "a");
    this.process = spawn(this.binary, ["run", "--data", this.data], {
      stdio: ["ignore", log, log],
      detached: true,
    });
    closeSync(log);
    this.exited = new Promise((resolve) => this.process.once("exit", resolve));
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.process.exitCode !== null) {
        const said = readFileSync(this.logPath).subarray(logStart).toString("utf8");
        throw Object.assign(new Error(`valise-server exited:\n${this.logTail()}`), {
          portTaken: said.includes("cannot listen on") && said.includes("Address already in use"),
        });
      }
      try {
        // 5 s, not 30: what else listens on a port taken from under us may
        // never answer, and the exit above must be seen.
        if ((await this.request("GET", "/healthz", { timeout: 5_000 })).status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`valise-server not healthy after 30 s:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  async stop(signal = "SIGTERM") {
    if (!this.process || this.process.exitCode !== null || this.process.signalCode) return;
    this.process.kill(signal);
    await this.exited;
  }

  kill() {
    return this.stop("SIGKILL");
  }

  async restart() {
    await this.stop();
    await this.run();
  }

  logTail(lines = 40) {
    return existsSync(this.logPath) ? readFileSync(this.logPath, "utf8").split("\n").slice(-lines).join("\n") : "";
  }

  // A console account: `valise-server user add`, the password on stdin
  // (one line, as the command reads it when stdin is not a terminal).
  addUser(name, password, { role = "technician" } = {}) {
    const args = ["user", "add", "--data", this.data, ...(role === "admin" ? ["--role", "admin"] : []), name];
    execFileSync(this.binary, args, { input: `${password}\n`, encoding: "utf8", stdio: ["pipe", "pipe", "pipe"] });
  }

  // One HTTPS request: {status, headers, body (Buffer), json()}.
  request(method, path, { body, token, headers = {}, timeout = 30_000 } = {}) {
    return new Promise((resolve, reject) => {
      const all = { ...headers };
      if (token) all.Authorization = `Bearer ${token}`;
      let payload = body;
      if (body !== undefined && !Buffer.isBuffer(body) && typeof body !== "string") {
        payload = JSON.stringify(body);
        all["Content-Type"] ??= "application/json";
      }
      const request = https.request(
        { host: "127.0.0.1", servername: "localhost", port: this.port, method, path, headers: all, ca: this.ca },
        (response) => {
          const chunks = [];
          response.on("data", (chunk) => chunks.push(chunk));
          response.on("end", () => {
            const data = Buffer.concat(chunks);
            resolve({
              status: response.statusCode,
              headers: response.headers,
              body: data,
              json: () => JSON.parse(data.toString("utf8")),
            });
          });
        },
      );
      request.on("error", reject);
      request.setTimeout(timeout, () => request.destroy(new Error(`${method} ${path}: timed out`)));
      request.end(payload);
    });
  }

  // A JSON API call that must answer `expect`; returns the parsed body.
  async api(method, path, { body, token = this.technicianToken, expect = [200, 201, 204] } = {}) {
    const response = await this.request(method, `/api/v1${path}`, { body, token });
    if (!expect.includes(response.status)) {
      throw new Error(`${method} ${path} → ${response.status}: ${response.body.toString("utf8")}`);
    }
    return response.status === 204 ? undefined : response.json();
  }
}
