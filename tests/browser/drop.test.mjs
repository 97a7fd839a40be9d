// The client drop page in Chromium against a real valise-server (issue 14,
// part A): a folder with a 200 MiB log sent and opened by `valise open` and
// by age | zstd | tar; an upload that survives the server's kill -9; the
// sentences for refused links and budgets; no CSP violation and no token in
// any URL; screenshots in English and French at desktop and phone width.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { desktop, launch, newContext, phone, screenshot, watch } from "./harness/browser.mjs";
import { assertOpensTo, downloadBundle as fetchBundle, filesUnder, sha256 } from "./harness/bundles.mjs";
import { writeLog, writeRandom } from "./harness/files.mjs";
import { Proxy } from "./harness/proxy.mjs";
import { Server } from "./harness/server.mjs";

const MiB = 1 << 20;
const workdir = mkdtempSync(join(tmpdir(), "valise-drop-"));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
let server;
let proxy;
let browser;
let publicKey;
const keyFile = join(workdir, "support.key");
let ticketCount = 0;

// A folder as a client would send it: logs, one of them big, a binary, a
// nested folder, a non-ASCII name and a name over tar's 100 bytes.
function makeFolder(name, { bigBytes = 0 } = {}) {
  const root = join(workdir, "input", name);
  const top = join(root, "logs");
  if (bigBytes) writeLog(join(top, "app.log"), bigBytes);
  writeLog(join(top, "small.log"), 300_000);
  writeRandom(join(top, "core", "dump.bin"), 3 * MiB);
  writeFileSync(join(top, "résumé d'incident.txt"), "Le disque est plein depuis 3 h.\n");
  writeFileSync(join(top, "core", `${"very-long-name-".repeat(8)}end.txt`), "long name\n");
  writeFileSync(join(top, "empty.txt"), "");
  return top;
}

async function newTicket() {
  const ref = `T-DROP-${++ticketCount}`;
  await server.api("POST", "/tickets", { body: { ref, title: `Disk full on web0${ticketCount}` } });
  return ref;
}

async function newLink(ref, body = {}) {
  return server.api("POST", `/tickets/${ref}/links`, { body: { recipients: [publicKey], ...body } });
}

async function openDrop(context, token, query = "") {
  const page = await context.newPage();
  const seen = await watch(page);
  await page.goto(`${proxy.url}/drop${query}${token === undefined ? "" : `#${token}`}`);
  return { page, seen };
}

async function assertClean(seen, token) {
  const { cspViolations, pageErrors, requestUrls } = await seen.collect();
  assert.deepEqual(cspViolations, [], "no CSP violation");
  assert.deepEqual(pageErrors, [], "no page error");
  assert.ok(requestUrls.length > 0);
  for (const url of requestUrls) assert.ok(!url.includes(token), `the token is not in ${url}`);
}

// The ticket's one bundle, downloaded with the technician token.
const downloadBundle = (ref) => fetchBundle(server, ref, workdir);

// `valise open` extracts every file, each equal to the one picked.
function assertOpens(path, folder, credential) {
  const base = join(folder, "..");
  const expected = Object.fromEntries(filesUnder(folder).map((file) => [relative(base, file), file]));
  return assertOpensTo(path, credential, expected, workdir);
}

// age -d | zstd -d | tar -t lists every file, with nothing on stderr.
function assertTarLists(path, folder) {
  const shell = spawnSync("sh", ["-c", `age -d -i "${keyFile}" "${path}" | zstd -d | tar -tf -`], {
    encoding: "utf8",
    env: { ...process.env, LC_ALL: "C.UTF-8" },
  });
  assert.equal(shell.status, 0, shell.stderr);
  assert.equal(shell.stderr, "", "no warning from age, zstd or tar");
  const listed = new Set(shell.stdout.split("\n").filter(Boolean));
  const base = join(folder, "..");
  for (const file of filesUnder(folder)) assert.ok(listed.has(relative(base, file)), `tar lists ${relative(base, file)}`);
  assert.equal(shell.stdout.trim().split("\n").pop(), "manifest.json", "the manifest is the last entry");
}

async function pickFolder(page, folder) {
  await page.getByLabel(/Add a folder|Ajouter un dossier/).setInputFiles(folder);
  await page.getByRole("list", { name: /Files to send|Fichiers à envoyer/ }).waitFor();
}

async function waitForReceipt(page, timeout = 600_000) {
  await page.getByRole("heading", { name: /^(Sent|Envoyé)$/ }).waitFor({ timeout });
  return {
    bundle: await page.locator('[data-field="bundle"]').innerText(),
    sha256: await page.locator('[data-field="sha256"]').innerText(),
    size: Number(await page.locator('[data-field="size"]').getAttribute("data-bytes")),
    check: await page.locator('[data-field="check"]').innerText(),
  };
}

before(async () => {
  execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
  publicKey = readFileSync(keyFile, "utf8").match(/public key: (age1[0-9a-z]+)/)[1];
  server = await new Server(workdir).start();
  proxy = await new Proxy(server.port).start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

describe("the drop page", () => {
  test("sends a folder with a 200 MiB log that valise open and tar read", async () => {
    const folder = makeFolder("big", { bigBytes: 200 * MiB });
    const ref = await newTicket();
    const link = await newLink(ref);
    assert.match(link.drop_url, new RegExp(`/drop#${link.token}$`));
    const context = await newContext(browser);
    const { page, seen } = await openDrop(context, link.token);
    await page.getByRole("heading", { name: new RegExp(`Ticket ${ref}`) }).waitFor();
    assert.ok(!page.url().includes("#"), "the token is gone from the address bar");
    const fingerprint = `SHA256:${createHash("sha256").update(publicKey).digest("base64").replace(/=+$/, "")}`;
    await page.getByText(fingerprint).waitFor();
    await page.getByText(/encrypted on this computer before they leave it/).waitFor();
    await page.getByText(/does not remove passwords or other secrets/).waitFor();

    await pickFolder(page, folder);
    const count = filesUnder(folder).length;
    await page.getByText(new RegExp(`^${count} files, `)).waitFor();
    await page.getByRole("button", { name: "Send" }).click();
    const bar = page.getByRole("progressbar", { name: "Sending progress" });
    await bar.waitFor();
    const receipt = await waitForReceipt(page);

    const { bundle, path, bytes } = await downloadBundle(ref);
    assert.equal(receipt.sha256, bundle.sha256, "the receipt shows the server's SHA-256");
    assert.equal(sha256(bytes), receipt.sha256, "which is the SHA-256 of the stored bytes");
    assert.match(receipt.check, /matches what this page sent/);
    assert.equal(receipt.size, bytes.length);
    assert.equal(receipt.bundle, bundle.id);
    assert.ok(bytes.length < 100 * MiB, `compressed: ${bytes.length} bytes`);
    const manifest = assertOpens(path, folder, ["-i", keyFile]);
    assert.equal(manifest.ticket, ref);
    assertTarLists(path, folder);
    await assertClean(seen, link.token);
    await context.close();
  });

  test("an upload cut by the server's kill -9 goes on from the server's offset", async () => {
    const folder = makeFolder("resume", { bigBytes: 160 * MiB });
    const ref = await newTicket();
    const link = await newLink(ref);
    const context = await newContext(browser);
    // 1 MiB chunks: at most that much is sent twice after the cut.
    const { page, seen } = await openDrop(context, link.token, "?chunkSize=1048576&frameSize=1048576");
    await pickFolder(page, folder);
    proxy.upstreamBytes = 0;
    await page.getByRole("button", { name: "Send" }).click();
    const bar = page.getByRole("progressbar", { name: "Sending progress" });
    await page.waitForFunction(
      () => Number(document.querySelector('[role="progressbar"]')?.getAttribute("aria-valuenow")) >= 30,
      null,
      { timeout: 300_000, polling: 50 },
    );
    const cutAt = Number(await bar.getAttribute("aria-valuenow"));
    assert.ok(cutAt < 90, `cut mid-way (${cutAt}%)`);
    await server.kill();
    const sentBeforeCut = proxy.upstreamBytes;
    proxy.cut();
    await sleep(1500);
    await server.run();
    const receipt = await waitForReceipt(page);
    const { bundle, path, bytes } = await downloadBundle(ref);
    assert.equal(receipt.sha256, bundle.sha256);
    // Starting over would send the bundle plus what was sent before the cut;
    // going on from the server's offset sends the bundle, the chunk cut
    // short at most once more, and TLS and HTTP overhead.
    assert.ok(sentBeforeCut > 4 * MiB, `${sentBeforeCut} bytes sent before the cut`);
    assert.ok(
      proxy.upstreamBytes < bytes.length + 2 * MiB,
      `went on from the offset: ${proxy.upstreamBytes} bytes sent for a ${bytes.length}-byte bundle`,
    );
    assertOpens(path, folder, ["-i", keyFile]);
    await assertClean(seen, link.token);
    await context.close();
  });

  test("expired, revoked, resolved and wrong links get their sentence", async () => {
    const context = await newContext(browser);
    const sentence = async (token, expected) => {
      const { page, seen } = await openDrop(context, token);
      const alert = page.getByRole("alert");
      await alert.waitFor();
      assert.match(await alert.innerText(), expected);
      await assertClean(seen, token || "vsl_");
      await page.close();
    };
    const ref = await newTicket();
    const expiring = await newLink(ref, { expires_in_s: 1 });
    await sleep(2100);
    await sentence(expiring.token, /This link has expired/);
    const revoked = await newLink(ref);
    await server.api("DELETE", `/links/${revoked.id}`);
    await sentence(revoked.token, /withdrawn by the support team/);
    await sentence("vsl_notarealtoken", /This link is not valid/);
    await sentence(undefined, /needs the whole link/);
    const closing = await newTicket();
    const resolved = await newLink(closing);
    await server.api("POST", `/tickets/${closing}/resolve`);
    await sentence(resolved.token, /This ticket is closed/);
    // The server unreachable when the page asks about its link.
    await context.route("**/api/v1/link", (route) => route.abort("connectionrefused"));
    await sentence(revoked.token, /The server could not be reached/);
    await context.close();
  });

  test("a folder over the budget is refused before sending", async () => {
    const folder = makeFolder("over");
    const ref = await newTicket();
    const link = await newLink(ref, { max_bytes: 1_000_000 });
    const context = await newContext(browser);
    const { page, seen } = await openDrop(context, link.token);
    await pickFolder(page, folder);
    const alert = page.getByRole("alert");
    await alert.waitFor();
    assert.match(await alert.innerText(), /more than this link can still receive/);
    assert.ok(await page.getByRole("button", { name: "Send" }).isDisabled());
    await assertClean(seen, link.token);
    await context.close();
  });

  test("a budget spent by another upload while sending gets its sentence (413)", async () => {
    const folder = makeFolder("spent");
    const ref = await newTicket();
    const link = await newLink(ref, { max_bytes: 8 * MiB });
    const context = await newContext(browser);
    const { page, seen } = await openDrop(context, link.token);
    await pickFolder(page, folder);
    // Another upload on the same link takes all but 1 MiB of the budget.
    const other = await server.request("POST", "/api/v1/uploads", {
      token: link.token,
      headers: {
        "Tus-Resumable": "1.0.0",
        "Upload-Length": String(7 * MiB),
        "Upload-Metadata": `filename ${Buffer.from("other.vls").toString("base64")}`,
      },
    });
    assert.equal(other.status, 201, other.body.toString());
    await page.getByRole("button", { name: "Send" }).click();
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: 120_000 });
    assert.match(await alert.innerText(), /budget ran out while sending/);
    await assertClean(seen, link.token);
    await context.close();
  });

  test("a passphrase link: the page makes the passphrase, valise open takes it", async () => {
    const folder = makeFolder("passphrase");
    const ref = await newTicket();
    const link = await server.api("POST", `/tickets/${ref}/links`, { body: { mode: "passphrase" } });
    const context = await newContext(browser);
    const { page, seen } = await openDrop(context, link.token);
    await page.getByText("This link uses a passphrase instead of keys.").waitFor();
    const passphrase = await page.getByRole("region", { name: "Your passphrase" }).locator("code").innerText();
    assert.match(passphrase, /^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){5}$/);
    await page.getByText(/by phone or SMS, never with the file/).waitFor();
    await pickFolder(page, folder);
    await page.getByRole("button", { name: "Send" }).click();
    const receipt = await waitForReceipt(page);
    const { path, bundle } = await downloadBundle(ref);
    assert.equal(receipt.sha256, bundle.sha256);
    const passphraseFile = join(workdir, "passphrase.txt");
    writeFileSync(passphraseFile, `${passphrase}\n`);
    assertOpens(path, folder, ["--passphrase-file", passphraseFile]);
    await assertClean(seen, link.token);
    await context.close();
  });

  test("screenshots in English and French, desktop and phone, files and receipt", async () => {
    const folder = makeFolder("screens");
    for (const [locale, lang] of [["en-US", "en"], ["fr-FR", "fr"]]) {
      for (const [viewport, width] of [[desktop, "desktop"], [phone, "phone"]]) {
        const ref = await newTicket();
        const link = await newLink(ref);
        const context = await newContext(browser, { locale, viewport });
        const { page, seen } = await openDrop(context, link.token);
        await pickFolder(page, folder);
        if (lang === "fr") await page.getByText("Vos fichiers sont chiffrés sur cet ordinateur", { exact: false }).waitFor();
        await screenshot(page, `drop-files-${lang}-${width}`);
        await page.getByRole("button", { name: lang === "fr" ? "Envoyer" : "Send" }).click();
        await waitForReceipt(page);
        await screenshot(page, `drop-receipt-${lang}-${width}`);
        await assertClean(seen, link.token);
        await context.close();
      }
    }
    const artifacts = process.env.VALISE_ARTIFACTS ?? "test-artifacts";
    mkdirSync(artifacts, { recursive: true });
    for (const name of ["drop-files-fr-phone", "drop-receipt-en-desktop"]) {
      assert.ok(statSync(join(artifacts, `${name}.png`)).size > 10_000);
    }
  });
});
