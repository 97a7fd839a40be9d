// Issue 14's first browser test as one journey, with nothing but pages: a
// technician signs in to the console, makes a ticket and an upload link; a
// client, in a browser context of their own, opens the drop URL, adds a
// folder holding a 200 MiB log and sends it; the technician's ticket page
// shows the bundle without a reload; the bundle opens with `valise open`
// byte for byte and with age | zstd | tar.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, test } from "node:test";
import { launch, newContext, watch } from "./harness/browser.mjs";
import { writeLog, writeRandom } from "./harness/files.mjs";
import { keygen } from "./harness/keys.mjs";
import { binary, Server } from "./harness/server.mjs";

const MiB = 1 << 20;
const PASSWORD = "a technician's long passphrase";
let workdir;
let server;
let browser;
let team;

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), "valise-journey-"));
  team = keygen(join(workdir, "team.key"));
  server = await new Server(join(workdir, "server"), { initArgs: ["--recipient", team.recipient] }).start();
  server.addUser("alice", PASSWORD);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const sha256 = (data) => createHash("sha256").update(data).digest("hex");

function filesUnder(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

async function assertClean(seen, token) {
  const { cspViolations, pageErrors, requestUrls } = await seen.collect();
  assert.deepEqual(cspViolations, [], "no CSP violation");
  assert.deepEqual(pageErrors, [], "no page error");
  for (const url of requestUrls) assert.ok(!url.includes(token), `the token is not in ${url}`);
}

test("console → link → drop page → live bundle → valise open and tar", async () => {
  const folder = join(workdir, "input", "logs");
  writeLog(join(folder, "app.log"), 200 * MiB);
  writeLog(join(folder, "nginx", "error.log"), 2 * MiB);
  writeRandom(join(folder, "core.bin"), MiB);
  writeFileSync(join(folder, "notes.txt"), "the disk filled at 03:12\n");

  // The technician.
  const desk = await newContext(browser);
  const console_ = await desk.newPage();
  const consoleSeen = await watch(console_);
  await console_.goto(`${server.url}/console`);
  await console_.getByLabel("User name", { exact: true }).fill("alice");
  await console_.getByLabel("Password", { exact: true }).fill(PASSWORD);
  await console_.getByRole("button", { name: "Sign in" }).click();
  await console_.getByLabel("Reference", { exact: true }).fill("T-777");
  await console_.getByLabel("Title", { exact: true }).fill("Disk full on the file server");
  await console_.getByRole("button", { name: "Create ticket" }).click();
  await console_.getByRole("heading", { level: 1, name: "T-777 — Disk full on the file server" }).waitFor();
  await console_.getByRole("button", { name: "Create link" }).click();
  const dropUrl = await console_.getByLabel("Drop page address", { exact: true }).inputValue();
  assert.match(dropUrl, /\/drop#vsl_[a-z2-7]+$/);
  const token = dropUrl.split("#")[1];
  await console_.evaluate(() => {
    window.__sameDocument = true;
  });

  // The client, in a context of their own (no cookie of the technician's).
  const site = await newContext(browser);
  const drop = await site.newPage();
  const dropSeen = await watch(drop);
  await drop.goto(dropUrl);
  await drop.getByRole("heading", { name: /Ticket T-777/ }).waitFor();
  await drop.getByLabel("Add a folder").setInputFiles(folder);
  await drop.getByText(new RegExp(`^${filesUnder(folder).length} files, `)).waitFor();
  await drop.getByRole("button", { name: "Send" }).click();
  await drop.getByRole("heading", { name: /^Sent$/ }).waitFor({ timeout: 600_000 });
  const receiptSha = await drop.locator('[data-field="sha256"]').innerText();

  // The technician's page shows it without a reload.
  const [bundle] = await server.api("GET", "/tickets/T-777/bundles");
  await console_.locator(`[data-bundle="${bundle.id}"]`).waitFor({ timeout: 15_000 });
  assert.equal(await console_.evaluate(() => window.__sameDocument), true, "no reload");
  assert.equal(receiptSha, bundle.sha256, "the client's receipt shows what the server stored");

  // The bundle, downloaded, opens byte for byte, and stock tools read it.
  const response = await server.request("GET", `/api/v1/bundles/${bundle.id}/content`, {
    token: server.technicianToken,
  });
  assert.equal(response.status, 200);
  assert.equal(sha256(response.body), bundle.sha256);
  const path = join(workdir, "T-777.vls");
  writeFileSync(path, response.body);
  const opened = join(workdir, "opened");
  execFileSync(binary("VALISE_BIN"), ["open", "-q", "-i", team.identity, "-d", opened, path], { stdio: "pipe" });
  const base = join(folder, "..");
  for (const file of filesUnder(folder)) {
    const name = relative(base, file);
    assert.equal(sha256(readFileSync(join(opened, name))), sha256(readFileSync(file)), `${name} byte for byte`);
  }
  const listing = spawnSync("sh", ["-c", `age -d -i "${team.identity}" "${path}" | zstd -d | tar -tf -`], {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C.UTF-8" },
  });
  assert.equal(listing.status, 0, listing.stderr);
  assert.equal(listing.stderr, "", "no warning from age, zstd or tar");
  const listed = new Set(listing.stdout.split("\n").filter(Boolean));
  for (const file of filesUnder(folder)) assert.ok(listed.has(relative(base, file)), `tar lists ${relative(base, file)}`);

  await assertClean(dropSeen, token);
  await assertClean(consoleSeen, token);
  await desk.close();
  await site.close();
});
