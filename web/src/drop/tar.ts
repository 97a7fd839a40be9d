// POSIX pax tar headers (docs/bundle-format.md): a ustar header per entry,
// preceded by a pax extended header when the name does not fit ustar (over
// 100 bytes, or not ASCII) or the size does not (8 GiB and over). Names are
// UTF-8, as POSIX requires, with no `hdrcharset` (GNU tar warns about it).
// Regular files are 0644 and directories 0755; owner names are not stored.
// Pure: bytes in, bytes out, so it is tested without a browser.

export const BLOCK = 512;
// GNU tar and libarchive write archives in records of 20 blocks.
const RECORD = 20 * BLOCK;
const encoder = new TextEncoder();

export interface TarEntry {
  path: string; // relative, "/"-separated, already checked (paths.ts)
  type: "file" | "directory";
  size: number; // bytes of a file; 0 for a directory
  mtimeMs: number; // modification time, milliseconds since the epoch
}

// Octal, zero-padded to fill `width - 1` digits and a NUL.
function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function putString(block: Uint8Array, offset: number, width: number, text: string): void {
  const bytes = encoder.encode(text);
  block.set(bytes.subarray(0, width), offset);
}

// The largest value an 11-digit octal size or mtime field holds.
const MAX_OCTAL_11 = 0o77777777777;

function isAscii(text: string): boolean {
  // eslint-disable-next-line no-control-regex
  return /^[\x20-\x7e]*$/.test(text);
}

// What the ustar name field says when the real name is in the pax header:
// printable ASCII, at most 100 bytes (tar shows the pax path instead).
function fallbackName(path: string): string {
  let ascii = "";
  for (const char of path) ascii += isAscii(char) ? char : "_";
  return ascii.length <= 100 ? ascii : ascii.slice(ascii.length - 100);
}

function ustarHeader(name: string, mode: number, size: number, mtime: number, type: string): Uint8Array {
  const block = new Uint8Array(BLOCK);
  putString(block, 0, 100, name);
  putString(block, 100, 8, octal(mode, 8));
  putString(block, 108, 8, octal(0, 8)); // uid
  putString(block, 116, 8, octal(0, 8)); // gid
  putString(block, 124, 12, octal(Math.min(size, MAX_OCTAL_11), 12));
  putString(block, 136, 12, octal(Math.min(Math.max(mtime, 0), MAX_OCTAL_11), 12));
  putString(block, 148, 8, "        "); // checksum counts itself as spaces
  putString(block, 156, 1, type);
  putString(block, 257, 6, "ustar\0");
  putString(block, 263, 2, "00");
  putString(block, 329, 8, octal(0, 8)); // devmajor
  putString(block, 337, 8, octal(0, 8)); // devminor
  let sum = 0;
  for (const byte of block) sum += byte;
  putString(block, 148, 8, sum.toString(8).padStart(6, "0") + "\0 ");
  return block;
}

// One pax record: "LEN key=value\n", LEN counting the whole record, itself too.
export function paxRecord(key: string, value: string): Uint8Array {
  const body = encoder.encode(` ${key}=${value}\n`);
  let length = body.length + 1;
  while (String(length).length + body.length > length) length++;
  return encoder.encode(`${length} ${key}=${value}\n`);
}

function padded(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(bytes.length / BLOCK) * BLOCK);
  out.set(bytes);
  return out;
}

// Seconds with the milliseconds as a decimal fraction (pax allows it).
function paxTime(mtimeMs: number): string {
  const ms = Math.max(0, Math.round(mtimeMs));
  const seconds = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return rest ? `${seconds}.${String(rest).padStart(3, "0")}` : String(seconds);
}

// The header blocks of one entry: [pax header + its data,] ustar header.
export function entryHeader(entry: TarEntry): Uint8Array {
  const name = entry.type === "directory" ? `${entry.path}/` : entry.path;
  const mode = entry.type === "directory" ? 0o755 : 0o644;
  const size = entry.type === "directory" ? 0 : entry.size;
  const mtime = Math.floor(Math.max(0, entry.mtimeMs) / 1000);
  const nameFits = isAscii(name) && encoder.encode(name).length <= 100;
  const sizeFits = size <= MAX_OCTAL_11;
  const header = ustarHeader(nameFits ? name : fallbackName(name), mode, size, mtime, entry.type === "directory" ? "5" : "0");
  if (nameFits && sizeFits) return header;

  const records: Uint8Array[] = [];
  if (!nameFits) records.push(paxRecord("path", name));
  if (!sizeFits) records.push(paxRecord("size", String(size)));
  records.push(paxRecord("mtime", paxTime(entry.mtimeMs)));
  const data = concat(records);
  const base = fallbackName(name.replace(/\/$/, "").split("/").pop() ?? "entry");
  const paxName = `PaxHeader/${base}`.slice(0, 100);
  const paxHeader = ustarHeader(paxName, 0o644, data.length, mtime, "x");
  return concat([paxHeader, padded(data), header]);
}

// Zeros after a file's data, up to its next 512-byte boundary.
export function dataPadding(size: number): Uint8Array {
  const rest = size % BLOCK;
  return new Uint8Array(rest ? BLOCK - rest : 0);
}

// The end of the archive: two zero blocks, then zeros to the end of the
// 10 KiB record, as tar itself writes (`written`: bytes before it).
export function archiveEnd(written: number): Uint8Array {
  const end = written + 2 * BLOCK;
  const total = Math.ceil(end / RECORD) * RECORD;
  return new Uint8Array(total - written);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
