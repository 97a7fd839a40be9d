// Test and benchmark inputs: log-like text (compresses like real logs, about
// 6:1 with zstd) and random bytes (does not compress), written quickly.
import { randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";

const words = ["GET", "POST", "/api/v1/tickets", "200", "404", "user", "session", "connection", "reset",
  "timeout", "worker", "started", "cache", "miss", "hit", "disk", "queue", "retry"];

function logBlock(firstLine, bytes) {
  const block = Buffer.alloc(bytes);
  let offset = 0;
  let i = firstLine;
  while (offset < bytes) {
    const line =
      `2026-12-07T${String((i / 3600) % 24 | 0).padStart(2, "0")}:${String((i / 60) % 60 | 0).padStart(2, "0")}:` +
      `${String(i % 60).padStart(2, "0")}.${String((i * 7) % 1000).padStart(3, "0")}Z web01 app[${1000 + (i % 50)}]: ` +
      `${words[i % words.length]} ${words[(i * 7) % words.length]} id=${((i * 2654435761) >>> 0).toString(16)} took=${i % 997}ms\n`;
    offset += block.write(line, offset);
    i++;
  }
  return { block, next: i };
}

// A log file of exactly `bytes` bytes: four different 8 MiB blocks in turn
// (making each line anew costs seconds per 100 MiB; zstd's frames are 4 MiB,
// so the repetition does not help it).
const blocks = [];
export function writeLog(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  for (let line = 0; blocks.length < 4; ) {
    const { block, next } = logBlock(line, 8 << 20);
    blocks.push(block);
    line = next;
  }
  const fd = openSync(path, "w");
  for (let left = bytes, n = 0; left > 0; n++) {
    const block = blocks[n % blocks.length];
    const size = Math.min(left, block.length);
    writeSync(fd, block, 0, size);
    left -= size;
  }
  closeSync(fd);
}

export function writeRandom(path, bytes) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, randomBytes(bytes));
}
