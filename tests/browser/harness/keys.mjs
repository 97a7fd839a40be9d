// An age identity made by `valise keygen` (VALISE_BIN): {identity (file),
// recipient (age1…)}.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { binary } from "./server.mjs";

export function keygen(path) {
  execFileSync(binary("VALISE_BIN"), ["keygen", "-o", path], { stdio: ["ignore", "pipe", "pipe"] });
  const recipient = readFileSync(path, "utf8").match(/age1[0-9a-z]+/)?.[0];
  if (!recipient) throw new Error(`${path}: valise keygen wrote no public key`);
  return { identity: path, recipient };
}
