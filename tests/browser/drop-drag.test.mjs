// Drag and drop on the drop page (issue 14, part A): files and a folder
// dropped from the "desktop" (CDP Input.dispatchDragEvent with file paths:
// Chromium builds the drop's DataTransfer from real files, folders walked
// through webkitGetAsEntry, as for a drag from a file manager) are listed
// with their sizes, sent, and the bundle the server stored opens with
// `valise open`.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import { after, before, test } from "node:test";
import { launch, newContext, watch } from "./harness/browser.mjs";
import { assertOpensTo, downloadBundle, filesUnder, sha256 } from "./harness/bundles.mjs";
import { writeLog, writeRandom } from "./harness/files.mjs";
import { Server } from "./harness/server.mjs";

const workdir = mkdtempSync(join(tmpdir(), "valise-drag-"));
const keyFile = join(workdir, "support.key");
let server;
let browser;
let publicKey;

before(async () => {
  execFileSync("age-keygen", ["-o", keyFile], { stdio: "pipe" });
  publicKey = readFileSync(keyFile, "utf8").match(/public key: (age1[0-9a-z]+)/)[1];
  server = await new Server(workdir).start();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(workdir, { recursive: true, force: true });
});

// A real drag of PATHS onto the element's middle: enter, over, drop.
async function dragFiles(page, locator, paths) {
  const box = await locator.boundingBox();
  assert.ok(box, "the drop zone is on screen");
  const cdp = await page.context().newCDPSession(page);
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  const data = { items: [], files: paths, dragOperationsMask: 1 | 16 }; // copy | move
  for (const type of ["dragEnter", "dragOver", "drop"]) await cdp.send("Input.dispatchDragEvent", { type, ...at, data });
  await cdp.detach();
}

test("files and a folder dropped on the page are listed with sizes, sent, and open", async () => {
  const input = join(workdir, "input");
  const folder = join(input, "var-log");
  writeLog(join(folder, "syslog"), 2_500_000);
  writeLog(join(folder, "nginx", "error.log"), 120_000);
  writeFileSync(join(folder, "nginx", "access.log"), "GET / 200\n".repeat(70));
  const loose = [join(input, "dmesg.txt"), join(input, "core.bin")];
  writeLog(loose[0], 40_000);
  writeRandom(loose[1], 1_300_000);

  await server.api("POST", "/tickets", { body: { ref: "T-DRAG-1", title: "Dropped files" } });
  const link = await server.api("POST", "/tickets/T-DRAG-1/links", { body: { recipients: [publicKey] } });
  const context = await newContext(browser);
  const page = await context.newPage();
  const seen = await watch(page);
  await page.goto(`${server.url}/drop#${link.token}`);
  const zone = page.getByRole("group", { name: /Drop files or folders/i });
  await zone.waitFor();
  await dragFiles(page, zone, [folder, ...loose]);

  // Every file, with its path under the dropped folder and its size as the
  // page writes sizes (kB and MB of 1000 bytes, one decimal under 100).
  const expected = {};
  for (const file of filesUnder(folder)) expected[relative(input, file)] = file;
  for (const file of loose) expected[basename(file)] = file;
  const list = page.getByRole("list", { name: "Files to send" });
  await list.waitFor();
  const rows = list.getByRole("listitem");
  await page.waitForFunction((n) => document.querySelectorAll("#file-list li").length === n, Object.keys(expected).length);
  const shown = Object.fromEntries(
    await rows.evaluateAll((items) =>
      items.map((li) => [li.querySelector(".name")?.textContent ?? "", li.querySelector(".size")?.textContent ?? ""]),
    ),
  );
  const written = (bytes) => {
    const units = ["B", "kB", "MB", "GB"];
    let value = bytes;
    let unit = 0;
    for (; value >= 1000 && unit < units.length - 1; unit++) value /= 1000;
    return `${value.toLocaleString("en-US", { maximumFractionDigits: unit === 0 || value >= 100 ? 0 : 1 })} ${units[unit]}`;
  };
  assert.deepEqual(
    shown,
    Object.fromEntries(Object.entries(expected).map(([path, file]) => [path, written(readFileSync(file).length)])),
    "the list shows each dropped file with its size",
  );
  assert.equal(shown["var-log/syslog"], "2.5 MB");
  // The folder came as a folder: its files under its name, the nested one too.
  assert.ok("var-log/nginx/error.log" in shown);

  await page.getByRole("button", { name: "Send" }).click();
  await page.getByRole("heading", { name: "Sent" }).waitFor({ timeout: 300_000 });
  const receiptSha = await page.locator('[data-field="sha256"]').innerText();
  const { bundle, path, bytes } = await downloadBundle(server, "T-DRAG-1", workdir);
  assert.equal(receiptSha, bundle.sha256);
  assert.equal(sha256(bytes), bundle.sha256);
  const manifest = assertOpensTo(path, ["-i", keyFile], expected, workdir);
  assert.equal(manifest.ticket, "T-DRAG-1");

  const { cspViolations, pageErrors, requestUrls } = await seen.collect();
  assert.deepEqual(cspViolations, []);
  assert.deepEqual(pageErrors, []);
  for (const url of requestUrls) assert.ok(!url.includes(link.token), `the token is not in ${url}`);
  await context.close();
});

