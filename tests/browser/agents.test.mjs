// The console's agents page over a fleet larger than a page: the first
// page of GET /api/v1/agents (100), then "Show more agents" for the rest,
// the count said, no agent twice; a request's agent choice offers them all
// (each agent's heartbeat, over mutual TLS, names a profile); a list that
// arrives after a newer one is not drawn over it.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { launch, newContext, watch } from "./harness/browser.mjs";
import { Server } from "./harness/server.mjs";

const PASSWORD = "correct horse battery staple";
const FLEET = 130;
let workdir;
let server;
let browser;

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), "valise-agents-page-"));
  server = await new Server(workdir).start();
  server.addUser("alice", PASSWORD);
  browser = await launch();
  // One key and CSR for the whole fleet: each enrollment still gets its
  // own agent id and certificate.
  const key = join(workdir, "key.pem");
  execFileSync("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key]);
  const csr = execFileSync("openssl", ["req", "-new", "-key", key, "-subj", "/CN=fleet"], { encoding: "utf8" });
  for (let i = 0; i < FLEET; ++i) {
    const { token } = await server.api("POST", "/enroll-tokens", { body: {} });
    const enrolled = await server.request("POST", "/api/v1/enroll", {
      token,
      body: { csr, hostname: `host-${String(i).padStart(3, "0")}`, os: "Debian GNU/Linux 12", version: "0.1.0" },
    });
    assert.equal(enrolled.status, 201, enrolled.body.toString());
    const beat = await heartbeat(readFileSync(key), enrolled.json().certificate, { profiles: ["base"] });
    assert.equal(beat, 200);
  }
});

// POST /api/v1/agent/heartbeat as the agent (its key and certificate).
function heartbeat(key, cert, facts) {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port: server.port,
        method: "POST",
        path: "/api/v1/agent/heartbeat",
        headers: { "Content-Type": "application/json" },
        ca: server.ca,
        key,
        cert,
        agent: false,
      },
      (response) => {
        response.resume();
        response.on("end", () => resolve(response.statusCode));
      },
    );
    request.on("error", reject);
    request.end(JSON.stringify(facts));
  });
}

// A new browser context signed in to the console as alice; `seen`: the
// page's CSP violations and errors, watched from before it loads.
async function signedIn() {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await page.goto(`${server.url}/console`);
  await page.getByLabel("User name", { exact: true }).fill("alice");
  await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.locator("header.top").waitFor();
  return { context, page, seen };
}

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test("the agents page shows the first page, then the rest on request", async () => {
  const { context, page, seen } = await signedIn();
  await page.locator("a[href='/console/agents']").click();

  const rows = page.locator("section.agents tbody tr");
  const more = page.getByRole("button", { name: "Show more agents" });
  await more.waitFor();
  assert.equal(await rows.count(), 100);
  await page.getByText("100 agents shown; more are enrolled.").waitFor();

  await more.click();
  await page.waitForFunction((n) => document.querySelectorAll("section.agents tbody tr").length === n, FLEET);
  assert.equal(await more.isVisible(), false);
  const hosts = await page.locator("section.agents tbody tr td:first-child a").allTextContents();
  assert.equal(new Set(hosts).size, FLEET);
  assert.deepEqual([...hosts].sort(), Array.from({ length: FLEET }, (_, i) => `host-${String(i).padStart(3, "0")}`));

  // The filter searches what was loaded.
  await page.getByLabel("Search by host, OS or id").fill("host-129");
  assert.equal(await rows.count(), 1);

  const { cspViolations, pageErrors } = await seen.collect();
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
  await context.close();
});

test("a request's choice of agent offers every agent, beyond the first page", async () => {
  await server.api("POST", "/tickets", { body: { ref: "FLEET-1", title: "fleet" } });
  const { context, page } = await signedIn();
  await page.goto(`${server.url}/console/tickets/FLEET-1`);
  const choice = page.getByLabel("Agent", { exact: true });
  await page.waitForFunction(() => {
    const select = [...document.querySelectorAll("select")].find((s) => s.querySelectorAll("option").length > 100);
    return Boolean(select);
  });
  const offered = await choice.locator("option").allTextContents();
  assert.ok(offered.length >= FLEET, `${offered.length} agents offered`);
  await context.close();
});

test("a list reloaded while an older one is on its way shows the newer", async () => {
  const byHost = new Map((await server.api("GET", "/agents?limit=1000")).map((a) => [a.hostname, a.id]));
  const { context, page } = await signedIn();
  await page.locator("a[href='/console/agents']").click();
  const rows = page.locator("section.agents tbody tr");
  await page.getByRole("button", { name: "Show more agents" }).waitFor();

  // The first reload's answer is read from the server at once but handed
  // to the page only after a second reload has drawn a newer list.
  let release;
  const released = new Promise((resolve) => (release = resolve));
  let held = 0;
  let heldFetched = false;
  let heldFinished = false;
  await page.route(
    (url) => url.pathname === "/api/v1/agents" && url.search === "",
    async (route) => {
      if (held++ > 0) return route.continue();
      const response = await route.fetch();
      heldFetched = true;
      await released;
      await route.fulfill({ response });
      heldFinished = true;
    },
  );
  await server.api("POST", `/agents/${byHost.get("host-010")}/revoke`);
  while (!heldFetched) await new Promise((resolve) => setTimeout(resolve, 50));
  await server.api("POST", `/agents/${byHost.get("host-011")}/revoke`);
  const host011 = rows.filter({ hasText: "host-011" });
  await host011.getByText("Revoked").waitFor();
  release();
  while (!heldFinished) await new Promise((resolve) => setTimeout(resolve, 50));
  // Time for the page to draw what it was handed, if it were to.
  await page.waitForTimeout(500);
  assert.equal(await host011.getByText("Revoked").count(), 1, "the older list was drawn over the newer");
  await context.close();
});
