// The drop page's pure modules (web/src/drop: tar.ts, paths.ts,
// passphrase.ts, manifest.ts), bundled by esbuild and run in Node: what the
// end-to-end test cannot easily reach (clashing names, long and non-ASCII
// names, pax record lengths, the passphrase's draw).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, test } from "node:test";

const web = resolve(dirname(fileURLToPath(import.meta.url)), "../../web");
const esbuild = createRequire(join(web, "package.json"))("esbuild");
const dir = mkdtempSync(join(tmpdir(), "valise-drop-units-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const entry = join(dir, "entry.ts");
writeFileSync(
  entry,
  ["tar", "paths", "passphrase", "manifest"].map((m) => `export * from ${JSON.stringify(join(web, "src/drop", m))};`).join("\n"),
);
esbuild.buildSync({ entryPoints: [entry], bundle: true, format: "esm", outfile: join(dir, "drop.mjs"), logLevel: "error" });
const drop = await import(pathToFileURL(join(dir, "drop.mjs")).href);

function tarList(bytes) {
  const file = join(dir, `t-${Math.random()}.tar`);
  writeFileSync(file, bytes);
  const env = { ...process.env, LC_ALL: "C.UTF-8" };
  const run = (command, args) => {
    const out = spawnSync(command, args, { encoding: "utf8", env });
    assert.equal(out.status, 0, out.stderr);
    assert.equal(out.stderr, "", `${command}: no warning`);
    return out.stdout;
  };
  return { gnu: run("tar", ["-tvf", file]), bsd: run("bsdtar", ["-tf", file]).split("\n").filter(Boolean) };
}

test("pax records count their own length", () => {
  for (const value of ["a", "x".repeat(90), "y".repeat(95), "z".repeat(994), "é".repeat(300)]) {
    const record = drop.paxRecord("path", value);
    const text = new TextDecoder().decode(record);
    assert.equal(Number(text.split(" ")[0]), record.length, `record for ${value.length} characters`);
  }
});

test("long, non-ASCII and plain names read back from GNU tar and bsdtar", () => {
  const names = ["plain.txt", `${"d".repeat(60)}/${"f".repeat(60)}.log`, "café/résumé.txt", "日本語.log", `${"x".repeat(100)}`];
  const parts = [drop.entryHeader({ path: "café", type: "directory", size: 0, mtimeMs: 1.7e12 })];
  for (const name of names) {
    const data = new TextEncoder().encode(`content of ${name}\n`);
    parts.push(drop.entryHeader({ path: name, type: "file", size: data.length, mtimeMs: 1_700_000_000_123 }), data, drop.dataPadding(data.length));
  }
  let written = parts.reduce((n, p) => n + p.length, 0);
  parts.push(drop.archiveEnd(written));
  const archive = drop.concat(parts);
  assert.equal(archive.length % 10240, 0, "whole records");
  const { gnu, bsd } = tarList(archive);
  assert.deepEqual(bsd, ["café/", ...names]);
  assert.match(gnu, /^drwxr-xr-x 0\/0 +0 .* café\/$/m);
  assert.match(gnu, /^-rw-r--r-- 0\/0 +\d+ 2023-11-14 \d\d:13 plain\.txt$/m);
});

test("archive paths are relative, unique and never the manifest", () => {
  const placed = drop.place(
    ["logs/a.log", "other/logs/a.log", "a.log", "a.log", "/abs//x/./y.txt", "../up.txt", "manifest.json", "manifest.json/inner", "logs", "README"],
    ["empty/dir"],
  );
  assert.deepEqual(placed.files, [
    "logs/a.log",
    "other/logs/a.log",
    "a.log",
    "a (2).log",
    "abs/x/y.txt",
    "_../up.txt",
    "manifest (2) (2).json", // "manifest (2).json" is a folder, below
    "manifest (2).json/inner",
    "logs (2)", // a file named like a folder
    "README",
  ]);
  assert.ok(placed.directories.includes("empty/dir") && placed.directories.includes("empty"));
  assert.ok(!placed.directories.includes("manifest.json"));
  assert.equal(drop.variant(".bashrc", 2), ".bashrc (2)");
  assert.equal(drop.variant("a.tar.gz", 3), "a (3).tar.gz");
});

test("passphrases: six groups of four from valise pack's alphabet, redrawing biased values", () => {
  for (let i = 0; i < 200; i++) assert.match(drop.generatePassphrase(), /^[a-hjkmnp-z2-9]{4}(-[a-hjkmnp-z2-9]{4}){5}$/);
  // 2^32 - (2^32 mod 31) and above are redrawn: the first draw here is one.
  const draws = [0xffffffff, 0, ...Array(23).fill(31 * 5 + 1)];
  const phrase = drop.generatePassphrase((out) => {
    out[0] = draws.shift() ?? 0;
  });
  assert.equal(phrase, "abbb-bbbb-bbbb-bbbb-bbbb-bbbb");
});

test("the manifest is format 1 with the browser as its source", () => {
  const json = JSON.parse(
    drop.manifestJson({
      bundleId: drop.uuidV4(),
      ticket: "T-1",
      host: "",
      createdAt: new Date("2026-12-07T10:00:00.123Z"),
      items: [{ path: "a", source: "a", size: 1, sha256: "0".repeat(64), error: "", truncated: false }],
      notes: [],
    }),
  );
  assert.equal(json.format, 1);
  assert.equal(json.source, "browser");
  assert.equal(json.created_at, "2026-12-07T10:00:00Z");
  assert.match(json.bundle_id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.deepEqual(json.items[0].redactions_by_rule, {});
});
