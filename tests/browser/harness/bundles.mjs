// What the tests check of a stored bundle: download it with the technician
// token, and `valise open` it into files equal to the ones picked.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { binary } from "./server.mjs";

export function sha256(data) {
  return createHash("sha256").update(data).digest("hex");
}

export function filesUnder(dir) {
  const out = [];
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    if (name.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

// The ticket's one bundle, downloaded into DIR/REF.vls.
export async function downloadBundle(server, ref, dir) {
  const bundles = await server.api("GET", `/tickets/${ref}/bundles`);
  assert.equal(bundles.length, 1, "one bundle");
  const response = await server.request("GET", `/api/v1/bundles/${bundles[0].id}/content`, {
    token: server.technicianToken,
  });
  assert.equal(response.status, 200);
  const path = join(dir, `${ref}.vls`);
  writeFileSync(path, response.body);
  return { bundle: bundles[0], path, bytes: response.body };
}

// `valise open` extracts every file of EXPECTED ({archive path: local
// file}), each byte for byte; returns the manifest.
export function assertOpensTo(path, credential, expected, dir) {
  const out = join(dir, `opened-${Date.now()}`);
  execFileSync(binary("VALISE_BIN"), ["open", "-q", ...credential, "-d", out, path], { stdio: "pipe" });
  for (const [stored, local] of Object.entries(expected)) {
    assert.equal(sha256(readFileSync(join(out, stored))), sha256(readFileSync(local)), `${stored} byte for byte`);
  }
  const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
  assert.equal(manifest.source, "browser");
  assert.equal(manifest.format, 1);
  assert.equal(manifest.items.length, Object.keys(expected).length);
  rmSync(out, { recursive: true });
  return manifest;
}
