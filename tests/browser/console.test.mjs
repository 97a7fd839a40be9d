// The technician console in Chromium against a real valise-server (and, for
// diagnostics, a real valise-agent): sign-in, tickets, links, live uploads,
// requests, resolve with its purge receipt, due badges and pending,
// sign-out, CSRF, throttling,
// no CSP violation, screenshots in English and French at two widths.
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Agent } from "./harness/agent.mjs";
import { desktop, launch, newContext, phone, screenshot, watch } from "./harness/browser.mjs";
import { keygen } from "./harness/keys.mjs";
import { Server } from "./harness/server.mjs";

const PASSWORD = "correct horse battery staple";
const ADMIN_PASSWORD = "an admin's long passphrase";
let workdir;
let team;
let server;
let browser;
const agents = [];

before(async () => {
  workdir = mkdtempSync(join(tmpdir(), "valise-console-"));
  // The team's key: what upload links encrypt to by default.
  mkdirSync(join(workdir, "main"));
  team = keygen(join(workdir, "team.key"));
  server = await new Server(join(workdir, "main"), { initArgs: ["--recipient", team.recipient] }).start();
  server.addUser("alice", PASSWORD);
  server.addUser("root", ADMIN_PASSWORD, { role: "admin" });
  browser = await launch();
});

after(async () => {
  for (const agent of agents) await agent.stop();
  await browser?.close();
  await server?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

const signInLabels = {
  "en-US": { user: "User name", password: "Password", submit: "Sign in", tickets: "Tickets" },
  "fr-FR": { user: "Nom d’utilisateur", password: "Mot de passe", submit: "Se connecter", tickets: "Tickets" },
};

async function openConsole(page, url = `${server.url}/console`) {
  await page.goto(url);
  await page.locator("form.signin, header.top").first().waitFor();
}

async function signIn(page, { name = "alice", password = PASSWORD, locale = "en-US", url } = {}) {
  const labels = signInLabels[locale];
  await openConsole(page, url);
  await page.getByLabel(labels.user, { exact: true }).fill(name);
  await page.getByLabel(labels.password, { exact: true }).fill(password);
  await page.getByRole("button", { name: labels.submit }).click();
  await page.locator("header.top").waitFor();
}

async function assertClean(seen) {
  const { cspViolations, pageErrors } = await seen.collect();
  assert.deepEqual(cspViolations, [], "no CSP violation");
  assert.deepEqual(pageErrors, [], "no page error");
}

// tus with an upload link, as a client's tool would: create, then PATCH
// the body in parts the test controls. The body starts as an age file.
async function startUpload(token, filename, length, on = server) {
  const body = Buffer.concat([Buffer.from("age-encryption.org/v1\n"), randomBytes(length - 22)]);
  const created = await on.request("POST", "/api/v1/uploads", {
    token,
    headers: {
      "Tus-Resumable": "1.0.0",
      "Upload-Length": String(length),
      "Upload-Metadata": `filename ${Buffer.from(filename).toString("base64")}`,
    },
  });
  assert.equal(created.status, 201, created.body.toString());
  const location = created.headers.location;
  let offset = 0;
  return async (bytes) => {
    const response = await on.request("PATCH", location, {
      token,
      body: body.subarray(offset, offset + bytes),
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Offset": String(offset),
        "Content-Type": "application/offset+octet-stream",
      },
    });
    assert.equal(response.status, 204, response.body.toString());
    offset += bytes;
    return response;
  };
}

function filesNamed(dir, name) {
  const found = [];
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) found.push(...filesNamed(path, name));
    else if (entry === name) found.push(path);
  }
  return found;
}

test("a technician signs in, makes a ticket and a link, and sees an upload arrive live", async () => {
  const context = await newContext(browser);
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  const page = await context.newPage();
  const seen = await watch(page);
  await signIn(page);
  assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);

  // A ticket from the form; the page moves to it.
  await page.getByLabel("Reference", { exact: true }).fill("T-100");
  await page.getByLabel("Title", { exact: true }).fill("The printer prints nothing");
  await page.getByLabel("Severity", { exact: true }).selectOption("blocking");
  await page.getByRole("button", { name: "Create ticket" }).click();
  await page.getByRole("heading", { level: 1, name: "T-100 — The printer prints nothing" }).waitFor();
  assert.equal(new URL(page.url()).pathname, "/console/tickets/T-100");

  // A link, and its drop URL copied.
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("button", { name: /Copy the address/ }).click();
  await page.getByText("Copied.").waitFor();
  const dropUrl = await page.evaluate(() => navigator.clipboard.readText());
  assert.match(dropUrl, /\/drop#vsl_[a-z2-7]+$/);
  assert.equal(await page.getByLabel("Drop page address", { exact: true }).inputValue(), dropUrl);
  const token = dropUrl.split("#")[1];
  await page.locator("[data-link]").first().waitFor();
  // The link says whom it encrypts to: the team key, by its fingerprint.
  const teamPrint = `SHA256:${createHash("sha256").update(team.recipient).digest("base64").replace(/=+$/, "")}`;
  const firstRow = page.locator("[data-link]").first();
  await firstRow.locator(`td[data-label="Encrypted to"]`).getByText(teamPrint, { exact: true }).waitFor();
  assert.equal(await firstRow.getByText("passphrase", { exact: true }).count(), 0);

  // The page must not reload from here on: a marker on window would vanish.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });

  // Half an upload: it shows in progress; the rest: it becomes a bundle.
  const send = await startUpload(token, "printer-logs.vls", 200_000);
  await send(100_000);
  const progress = page.getByRole("progressbar", { name: "Upload of printer-logs.vls" });
  await progress.waitFor({ timeout: 10_000 });
  await page.waitForFunction(
    () => document.querySelector("progress")?.getAttribute("value") === "100000",
    null,
    { timeout: 10_000 },
  );
  await send(100_000);
  const row = page.locator("[data-bundle]", { hasText: "printer-logs.vls" });
  await row.waitFor({ timeout: 15_000 });
  await progress.waitFor({ state: "detached", timeout: 10_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the bundle appeared without a reload");
  const download = row.getByRole("link", { name: "Download printer-logs.vls" });
  const [bundle] = await server.api("GET", "/tickets/T-100/bundles");
  assert.equal(await download.getAttribute("href"), `/api/v1/bundles/${bundle.id}/content`);
  assert.match(await row.getByLabel("Command to open it", { exact: true }).inputValue(), /^valise open 'printer-logs\.vls' -i support\.key -d 'T-100-/);
  await page.getByText(/finished an upload: bundle/).waitFor();

  // The browser downloads it with the session cookie.
  const [file] = await Promise.all([page.waitForEvent("download"), download.click()]);
  assert.equal(statSync(await file.path()).size, 200_000);

  // Another bundle, deleted from the page: it asks first, then the file goes.
  const sendAll = await startUpload(token, "mistake.vls", 1_000);
  await sendAll(1_000);
  const [extra] = (await server.api("GET", "/tickets/T-100/bundles")).filter((b) => b.filename === "mistake.vls");
  await page.locator(`[data-bundle="${extra.id}"]`).waitFor();
  assert.equal(filesNamed(server.data, extra.id).length, 1);
  await page.getByRole("button", { name: "Delete mistake.vls" }).click();
  const ask = page.getByRole("dialog", { name: "Delete this bundle?" });
  await ask.getByText("mistake.vls (1 kB) will be erased from the server.", { exact: false }).waitFor();
  await ask.getByRole("button", { name: "Delete" }).click();
  await page.locator(`[data-bundle="${extra.id}"]`).waitFor({ state: "detached" });
  assert.deepEqual(filesNamed(server.data, extra.id), []);

  // After a reload the session and its CSRF value come back from GET /session.
  await page.reload();
  await page.getByRole("heading", { level: 1, name: /^T-100/ }).waitFor();
  await page.getByLabel("With a passphrase the client chooses").check();
  await page.getByRole("button", { name: "Create link" }).click();
  await page.getByRole("button", { name: /Copy the address/ }).waitFor();
  const links = await server.api("GET", "/tickets/T-100/links");
  assert.equal(links.length, 2);
  // A passphrase link lists no key: its row says "passphrase".
  const passphraseLink = links.find((l) => l.mode === "passphrase");
  assert.deepEqual(passphraseLink?.recipients, []);
  const passphraseRow = page.locator(`[data-link="${passphraseLink.id}"]`);
  await passphraseRow.locator(`td[data-label="Encrypted to"]`).getByText("passphrase", { exact: true }).waitFor();
  assert.equal(await passphraseRow.getByText(/^SHA256:/).count(), 0);

  // Revoking asks first; cancelling changes nothing.
  const second = links.find((l) => l.used_bytes === 0);
  await page.getByRole("button", { name: `Revoke link ${second.id}` }).click();
  let question = page.getByRole("dialog", { name: "Revoke this upload link?" });
  await question.getByRole("button", { name: "Cancel" }).click();
  await question.waitFor({ state: "detached" });
  assert.equal((await server.api("GET", "/tickets/T-100/links")).find((l) => l.id === second.id).revoked, false);
  await page.getByRole("button", { name: `Revoke link ${second.id}` }).click();
  question = page.getByRole("dialog", { name: "Revoke this upload link?" });
  await question.getByRole("button", { name: "Revoke" }).click();
  await page.locator(`[data-link="${second.id}"]`).getByText("Revoked").waitFor();
  assert.equal((await server.api("GET", "/tickets/T-100/links")).find((l) => l.id === second.id).revoked, true);
  await assertClean(seen);
  await context.close();
});

test("a diagnostics request to a real agent reaches done; resolving shows the receipt and deletes the files", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await signIn(page);

  // Enroll with the exact command the console shows.
  await page.getByRole("link", { name: "Agents" }).click();
  await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
  await page.getByRole("button", { name: "Create an enrollment token" }).click();
  const command = await page.getByLabel("Enrollment command", { exact: true }).inputValue();
  const words = command.split(" ");
  assert.equal(words[0], "valise-agent");
  assert.equal(words[1], "enroll");
  assert.match(command, /--ca-fingerprint SHA256:[0-9a-f]{64} /);
  assert.equal(words[words.indexOf("--ca-fingerprint") + 1], `SHA256:${server.command("ca-fingerprint", "--data", server.data).trim().split(":").pop()}`);
  const agent = new Agent(join(workdir, "agent"), server.url);
  agents.push(agent);
  agent.enroll(words.slice(1));
  await agent.start();
  // The list follows without a reload (agent.enrolled event).
  await page.locator("td", { hasText: agent.id }).waitFor({ timeout: 15_000 });

  await server.api("POST", "/tickets", { body: { ref: "T-200", title: "Slow disk", severity: "semi-blocking" } });
  await page.getByRole("link", { name: "Tickets" }).click();
  await page.getByRole("link", { name: "T-200" }).click();
  await page.getByRole("heading", { level: 1, name: "T-200 — Slow disk" }).waitFor();
  // The agent's heartbeat told the server its profiles.
  await page.getByLabel("Agent", { exact: true }).locator("option").first().waitFor({ state: "attached", timeout: 15_000 });
  await page.getByLabel("Agent", { exact: true }).selectOption(agent.id);
  await page.getByLabel("Profile", { exact: true }).selectOption("diag");
  await page.getByRole("button", { name: "Send the request" }).click();
  const request = page.locator("[data-request]");
  await request.waitFor();
  await request.getByText("Done").waitFor({ timeout: 90_000 });
  const [bundle] = await server.api("GET", "/tickets/T-200/bundles");
  await page.locator(`[data-bundle="${bundle.id}"]`).waitFor();
  assert.equal(filesNamed(server.data, bundle.id).length, 1, "the bundle is on disk");

  // Resolve: the dialog lists what goes; then the receipt.
  await page.getByRole("button", { name: "Resolve" }).click();
  const dialog = page.getByRole("dialog", { name: "Resolve T-200?" });
  await dialog.waitFor();
  await dialog.getByText("Bundles to delete: 1").waitFor();
  await dialog.getByText(bundle.filename).waitFor();
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Cancel", "focus is in the dialog");
  await dialog.getByRole("button", { name: "Resolve" }).click();
  const receipt = page.getByRole("region", { name: "Purge receipt" });
  await receipt.waitFor();
  await receipt.getByText(bundle.id).waitFor();
  await receipt.getByText(bundle.sha256).waitFor();
  assert.deepEqual(filesNamed(server.data, bundle.id), [], "the bundle's file is gone from the data directory");
  await page.getByRole("button", { name: "Reopen" }).waitFor();

  // The agent's page: its profile, its request; revoking asks first.
  await page.getByRole("link", { name: "Agents" }).click();
  await page.locator(`a[href="/console/agents/${agent.id}"]`).click();
  await page.getByText("diag", { exact: true }).waitFor();
  await page.locator("ul.requests").getByText("Done").waitFor();
  await page.getByRole("button", { name: "Revoke" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Revoke" }).click();
  await page.locator("dl.facts .badge").getByText("Revoked", { exact: true }).waitFor();
  assert.equal((await server.api("GET", `/agents/${agent.id}`)).revoked, true);
  await assertClean(seen);
  await context.close();
});

test("comments and the resolution tell the ticket's story in the timeline, newest first, across a reopening", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await server.api("POST", "/tickets", { body: { ref: "T-300", title: "Fuser smokes", severity: "blocking" } });
  await signIn(page);
  await page.getByRole("link", { name: "T-300" }).click();
  await page.getByRole("heading", { level: 1, name: "T-300 — Fuser smokes" }).waitFor();
  const kinds = () => page.locator("ol.timeline li").evaluateAll((items) => items.map((li) => li.dataset.kind));

  const comment = page.getByLabel("Comment", { exact: true });
  await comment.fill("Client called: it smokes at boot.\nSince Monday.");
  await page.getByRole("button", { name: "Add comment" }).click();
  const said = page.locator('ol.timeline li[data-kind="comment.added"]');
  await said.waitFor();
  assert.equal(await said.locator(".sentence").innerText(), "alice commented: Client called: it smokes at boot.\nSince Monday.");
  assert.equal(await comment.inputValue(), "", "the box is emptied once the comment is stored");
  // The server's refusal is shown where the comment was written.
  await comment.fill("   ");
  await page.getByRole("button", { name: "Add comment" }).click();
  await page.locator(".comment-form").getByText("text must not be empty").waitFor();

  // Resolving with a text: shown on the ticket and in the timeline.
  await page.getByRole("button", { name: "Resolve" }).click();
  const dialog = page.getByRole("dialog", { name: "Resolve T-300?" });
  await dialog.getByLabel("Resolution (optional)").fill("Replaced the fuser.");
  await dialog.getByRole("button", { name: "Resolve" }).click();
  await page.getByRole("button", { name: "Reopen" }).waitFor();
  await page.locator(".resolution").getByText("Replaced the fuser.").waitFor();
  await page.locator('ol.timeline li[data-kind="purge.resolved"]').waitFor();
  assert.deepEqual(await kinds(), ["purge.resolved", "ticket.resolved", "comment.added", "ticket.created"]);
  assert.equal(await page.locator('ol.timeline li[data-kind="ticket.resolved"] .sentence').innerText(), "alice resolved the ticket: Replaced the fuser.");

  // Reopened: the resolution and everything said stay; a new comment comes first.
  await page.getByRole("button", { name: "Reopen" }).click();
  await page.getByRole("button", { name: "Resolve" }).waitFor();
  await page.locator(".resolution").getByText("Replaced the fuser.").waitFor();
  await comment.fill("It smokes again.");
  await page.getByRole("button", { name: "Add comment" }).click();
  await page.locator("ol.timeline li").first().getByText("alice commented: It smokes again.").waitFor();
  assert.deepEqual(await kinds(), ["comment.added", "ticket.reopened", "purge.resolved", "ticket.resolved", "comment.added", "ticket.created"]);
  const stored = await server.api("GET", "/tickets/T-300/comments");
  assert.deepEqual(stored.map((c) => [c.author, c.author_kind, c.text]), [
    ["alice", "user", "Client called: it smokes at boot.\nSince Monday."],
    ["alice", "user", "It smokes again."],
  ]);
  await assertClean(seen);
  await context.close();
});

test("sign-out ends the session; another page is sent to sign-in and told why; a cross-site form changes nothing", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await signIn(page);
  const cookie = (await context.cookies()).find((c) => c.name === "__Host-valise_session");
  assert.ok(cookie, "the session cookie");
  assert.equal(cookie.httpOnly, true);
  const headers = { Cookie: `${cookie.name}=${cookie.value}` };
  assert.equal((await server.request("GET", "/api/v1/session", { headers })).status, 200);

  const other = await context.newPage();
  await openConsole(other);
  await other.locator("header.top").waitFor();

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You are signed out.").waitFor();
  assert.equal((await server.request("GET", "/api/v1/session", { headers })).status, 401);
  assert.equal((await server.request("GET", "/api/v1/tickets", { headers })).status, 401);

  // The other page learns it at its next call: the events long-poll, woken
  // by the sign-out's audit record, or a click.
  await other.getByRole("link", { name: "Agents" }).click({ timeout: 2000 }).catch(() => undefined);
  await other.getByText(/Your session has ended/).waitFor();
  await other.getByLabel("User name", { exact: true }).waitFor();

  // A page on another origin posts a form at the API with the browser's cookie.
  await signIn(page);
  const target = `${server.url}/api/v1/tickets`;
  const evil = http.createServer((request, response) => {
    response.setHeader("Content-Type", "text/html");
    response.end(
      `<!doctype html><form method="POST" action="${target}" enctype="text/plain">` +
        `<input name='{"ref":"EVIL-1","title":"forged","x":"' value='"}'></form>` +
        `<script>document.forms[0].submit()</script>`,
    );
  });
  await new Promise((resolve) => evil.listen(0, "127.0.0.1", resolve));
  try {
    const attacker = await context.newPage();
    const [answer] = await Promise.all([
      attacker.waitForResponse((r) => r.url() === target),
      attacker.goto(`http://127.0.0.1:${evil.address().port}/`),
    ]);
    assert.ok([401, 403].includes(answer.status()), `the forged POST got ${answer.status()}`);
    await attacker.close();
  } finally {
    evil.close();
  }
  await server.api("GET", "/tickets/EVIL-1", { expect: [404] });
  // The console still works for the real user: search and sort the list.
  await page.getByRole("heading", { level: 1, name: "Tickets" }).waitFor();
  const refs = () => page.locator("tbody tr td:first-child").allTextContents();
  await page.locator("a[href='/console/tickets/T-100']").waitFor();
  await page.getByLabel("Show status", { exact: true }).selectOption("");
  await page.locator("a[href='/console/tickets/T-200']").waitFor();
  await page.getByRole("button", { name: "Reference" }).click();
  assert.equal(await page.locator("th[data-key=ref]").getAttribute("aria-sort"), "ascending");
  assert.deepEqual(await refs(), ["T-100", "T-200", "T-300"]);
  await page.getByRole("button", { name: "Reference" }).click();
  assert.deepEqual(await refs(), ["T-300", "T-200", "T-100"]);
  await page.getByRole("searchbox", { name: "Search by reference or title" }).fill("printer");
  assert.deepEqual(await refs(), ["T-100"]);
  await assertClean(seen);
  await context.close();
});

test("screenshots: tickets, a ticket, agents; desktop and phone; English and French", async () => {
  for (const locale of ["en-US", "fr-FR"]) {
    for (const [width, viewport] of [["desktop", desktop], ["phone", phone]]) {
      const context = await newContext(browser, { locale, viewport });
      const page = await context.newPage();
      const seen = await watch(page);
      await signIn(page, { locale });
      const lang = locale.slice(0, 2);
      assert.equal(await page.evaluate(() => document.documentElement.lang), lang);
      await page.locator("a[href='/console/tickets/T-100']").waitFor();
      await screenshot(page, `console-tickets-${width}-${lang}`);
      await page.locator("a[href='/console/tickets/T-100']").click();
      await page.locator("[data-bundle]").first().waitFor();
      await page.locator("ol.timeline li").first().waitFor();
      await screenshot(page, `console-ticket-${width}-${lang}`);
      await page.locator("a[href='/console/agents']").click();
      await page.locator("a[href^='/console/agents/agt_']").first().waitFor();
      await screenshot(page, `console-agents-${width}-${lang}`);
      if (lang === "fr") await page.getByRole("heading", { level: 1, name: "Agents" }).waitFor();
      await assertClean(seen);
      await context.close();
    }
  }
});

test("an admin manages users; throttled sign-ins say how long to wait", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await signIn(page, { name: "root", password: ADMIN_PASSWORD });
  await page.getByRole("link", { name: "Users" }).click();
  await page.getByRole("heading", { level: 1, name: "Users" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("bob");
  await page.getByLabel("Role", { exact: true }).selectOption("technician");
  await page.locator("form").getByLabel("Password", { exact: true }).fill("bob's first password");
  await page.getByRole("button", { name: "Add user" }).click();
  await page.getByRole("button", { name: "Disable bob" }).click();
  await page.getByRole("button", { name: "Enable bob" }).waitFor();
  assert.equal((await server.api("GET", "/users", { token: server.adminToken })).find((u) => u.name === "bob").disabled, true);
  await page.getByRole("button", { name: "Enable bob" }).click();
  await page.getByRole("button", { name: "Set the password of bob" }).click();
  const dialog = page.getByRole("dialog");
  await dialog.getByLabel("New password", { exact: true }).fill("bob's second password");
  await dialog.getByRole("button", { name: "Set password" }).click();
  await page.getByText("The password of bob is changed.").waitFor();
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, { name: "bob", password: "bob's second password" });
  await page.getByRole("button", { name: "Sign out" }).click();

  // Wrong passwords until the server throttles: the page says how long to wait.
  await page.getByLabel("User name", { exact: true }).fill("bob");
  const alert = page.locator("form.signin [role=alert]");
  for (let attempt = 0; attempt < 40; attempt++) {
    await page.getByLabel("Password", { exact: true }).fill(`wrong ${attempt}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForFunction(() => document.querySelector("form.signin [role=alert]")?.textContent !== "");
    const text = await alert.textContent();
    if (/Too many failed sign-ins/.test(text)) {
      assert.match(text, /Wait \d+ (seconds|minutes), then try again\./);
      break;
    }
    assert.equal(text, "The user name or the password is wrong.");
    assert.ok(attempt < 39, "the server never throttled");
  }
  await assertClean(seen);
  await context.close();
});

// Last: it adds tickets that the tests above do not expect in the list.
test("due badges: a pending ticket is grey, sorting by due date puts it last; the ticket page pauses and resumes", async () => {
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await server.api("POST", "/tickets", { body: { ref: "T-400", title: "Scanner jams", severity: "blocking" } });
  await server.api("POST", "/tickets", { body: { ref: "T-401", title: "Waiting on the client", severity: "non-blocking" } });
  await server.api("POST", "/tickets/T-401/pending");
  await signIn(page);
  const row = (ref) => page.locator("tbody tr", { has: page.getByRole("link", { name: ref, exact: true }) });
  const pendingBadge = row("T-401").locator(".badge.due-pending");
  await pendingBadge.waitFor();
  assert.equal(await pendingBadge.innerText(), "Pending");
  assert.equal(await row("T-400").locator(".due-pending").count(), 0);
  assert.match(await row("T-400").locator('td[data-label="Due"]').innerText(), /\d/);
  await page.getByRole("button", { name: "Due", exact: true }).click();
  const refs = await page.locator("tbody tr td:first-child").allInnerTexts();
  assert.equal(refs.at(-1), "T-401", `a ticket without a due date sorts last: ${refs}`);
  assert.ok(refs.indexOf("T-400") >= 0);

  await row("T-400").getByRole("link", { name: "T-400" }).click();
  await page.getByRole("heading", { level: 1, name: "T-400 — Scanner jams" }).waitFor();
  await page.locator(".deadlines").getByText("first response due").waitFor();
  await page.getByRole("button", { name: "Set pending" }).click();
  await page.getByRole("button", { name: "Resume" }).waitFor();
  await page.locator(".deadlines .badge.due-pending").waitFor();
  const paused = page.locator('ol.timeline li[data-kind="ticket.pending"] .sentence');
  await paused.waitFor();
  assert.equal(await paused.innerText(), "alice set the ticket pending: its clock stops until it is resumed.");
  await page.getByRole("button", { name: "Resume" }).click();
  await page.getByRole("button", { name: "Set pending" }).waitFor();
  await page.locator('ol.timeline li[data-kind="ticket.resumed"]').waitFor();
  const ticket = await server.api("GET", "/tickets/T-400");
  assert.equal(ticket.pending, false);
  assert.ok(ticket.due_at, "resumed: the due date is back");
  await assertClean(seen);
  await context.close();
});

test("deliveries that failed for good are shown above every view, with a retry", async () => {
  // A server of its own, whose webhook nobody answers and which gives up at
  // the first failure: the other tests' pages stay as they were.
  mkdirSync(join(workdir, "outbox"));
  const own = await new Server(join(workdir, "outbox"), {
    initArgs: ["--recipient", team.recipient],
    configEdits: { "outbox.min_backoff": '"4s"', "outbox.give_up_after": '"1s"' },
  }).start();
  try {
    const secret = `whsec_${randomBytes(32).toString("base64")}`;
    appendFileSync(join(own.data, "server.toml"), `\n[webhooks.desk]\nurl = "https://127.0.0.1:1/hook"\nsecret = "${secret}"\n`);
    await own.restart();
    own.addUser("alice", PASSWORD);
    await own.api("POST", "/tickets", { body: { ref: "T-900", title: "Webhook down", severity: "blocking" } });
    const link = await own.api("POST", "/tickets/T-900/links", { body: {} });
    await (await startUpload(link.token, "logs.tar.zst.age", 1000, own))(1000);

    const context = await newContext(browser);
    const page = await context.newPage();
    const seen = await watch(page);
    await signIn(page, { url: `${own.url}/console` });
    const notice = page.getByRole("region", { name: "Failed deliveries" });
    await notice.getByText("Deliveries to other systems that failed: 1").waitFor();
    await notice.getByText("bundle.arrived to desk for ticket").waitFor();
    await notice.getByRole("link", { name: "T-900" }).waitFor();
    await notice.getByRole("button", { name: "Retry" }).click();
    // Retried (audited), it fails again at once and is listed again.
    for (let i = 0; ; ++i) {
      const audit = await own.api("GET", "/tickets/T-900/audit");
      if (audit.filter((r) => r.action === "outbox.given_up").length === 2) {
        assert.equal(audit.filter((r) => r.action === "outbox.retried")[0].actor, "user:alice");
        break;
      }
      assert.ok(i < 100, "the retry never failed again");
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await notice.getByRole("button", { name: "Retry" }).waitFor();
    assert.ok(!own.logTail(1000).includes(secret.slice(6)), "the secret is not logged");
    await assertClean(seen);
    await context.close();
  } finally {
    await own.stop();
  }
});
