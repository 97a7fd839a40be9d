// The bundle, as a stream: files → tar (pax) → zstd frames → age, with each
// file's SHA-256 computed as it streams and manifest.json written last
// (docs/bundle-format.md). Everything is pulled: a file is read only when
// the upload wants more bytes, so memory stays bounded by the frames in
// flight and the upload's chunk, whatever the files' total (docs/web.md).
import { Encrypter } from "age-encryption";
import type { Compressor } from "./compress";
import type { FileHasher } from "./hashing";
import { manifestJson, type ManifestItem } from "./manifest";
import { archiveEnd, dataPadding, entryHeader } from "./tar";

export interface BundleFile {
  file: Blob & { lastModified?: number };
  path: string; // archive path (paths.ts)
  source: string; // as the browser named it
}

export interface BundlePlan {
  files: readonly BundleFile[];
  directories: readonly string[];
  bundleId: string;
  ticket: string;
  host: string;
  createdAt: Date;
}

const ZERO_PIECE = 1 << 20;
const READ_SIZE = 1 << 20;

// A file's bytes through File.stream(), read into one reused 1 MiB buffer
// (a BYOB reader) where the browser allows it: a fresh buffer per chunk
// leaves the garbage collector hundreds of MiB to find late (measured: the
// renderer's peak grew by 700 MiB per GiB read). The buffer is `spare`'s,
// kept from one file to the next (a fresh one per file was another 1 MiB of
// garbage each). Each piece is only valid until the next is asked for: the
// consumers copy it (frames, the hasher).
export interface ReadBuffer {
  buffer: ArrayBuffer;
}

export function readBuffer(): ReadBuffer {
  return { buffer: new ArrayBuffer(READ_SIZE) };
}

export async function* readBlob(blob: Blob, spare: ReadBuffer = readBuffer()): AsyncGenerator<Uint8Array> {
  let byob: ReadableStreamBYOBReader | undefined;
  const stream = blob.stream();
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    byob = undefined;
  }
  if (!byob) {
    const reader = stream.getReader();
    try {
      for (let r = await reader.read(); !r.done; r = await reader.read()) yield r.value;
    } finally {
      await reader.cancel().catch(() => {});
    }
    return;
  }
  // A read hands the buffer over (it is detached, byteLength 0) and back in
  // its answer; one that failed keeps it: start a new one then.
  if (spare.buffer.byteLength !== READ_SIZE) spare.buffer = new ArrayBuffer(READ_SIZE);
  try {
    for (;;) {
      const { value, done } = await byob.read(new Uint8Array(spare.buffer, 0, READ_SIZE));
      if (value) spare.buffer = value.buffer as ArrayBuffer;
      if (done || !value) break;
      yield value;
    }
  } finally {
    await byob.cancel().catch(() => {});
  }
}

// The plaintext tar stream. `onRead` counts the files' bytes as they are read.
export async function* tarStream(
  plan: BundlePlan,
  hasher: FileHasher,
  onRead: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const items: ManifestItem[] = [];
  const digests: Promise<string>[] = [];
  let written = 0;
  const out = (bytes: Uint8Array) => {
    written += bytes.length;
    return bytes;
  };
  const mtime = plan.createdAt.getTime();
  const spare = readBuffer();
  for (const dir of plan.directories) {
    yield out(entryHeader({ path: dir, type: "directory", size: 0, mtimeMs: mtime }));
  }
  for (const entry of plan.files) {
    const size = entry.file.size;
    yield out(entryHeader({ path: entry.path, type: "file", size, mtimeMs: entry.file.lastModified ?? mtime }));
    hasher.begin();
    let stored = 0;
    let error = "";
    try {
      for await (const piece of readBlob(entry.file, spare)) {
        // A Blob never grows; should a browser hand more, the header's size wins.
        const chunk = piece.length > size - stored ? piece.subarray(0, size - stored) : piece;
        await hasher.update(chunk);
        stored += chunk.length;
        onRead(chunk.length);
        yield out(chunk);
        if (stored === size) break;
      }
    } catch (e) {
      // The file changed or vanished after it was picked (a log being
      // written): like `valise pack`, keep what was read and zero-fill.
      error = `read failed after ${stored} bytes (${e instanceof Error ? e.name : String(e)}); rest zero-filled`;
    }
    if (stored < size) {
      if (!error) error = `file shrank while read; zero-filled after ${stored} bytes`;
      const skipped = size - stored;
      while (stored < size) {
        const zeros = new Uint8Array(Math.min(ZERO_PIECE, size - stored));
        await hasher.update(zeros);
        stored += zeros.length;
        yield out(zeros);
      }
      onRead(skipped);
    }
    yield out(dataPadding(size));
    digests.push(hasher.end());
    items.push({ path: entry.path, source: entry.source, size, sha256: "", error, truncated: error !== "" });
  }
  // The digests come back from the hashing worker, in order.
  const hexes = await Promise.all(digests);
  items.forEach((item, i) => (item.sha256 = hexes[i] ?? ""));
  const manifest = new TextEncoder().encode(
    manifestJson({
      bundleId: plan.bundleId,
      ticket: plan.ticket,
      host: plan.host,
      createdAt: plan.createdAt,
      items,
      notes: [],
    }),
  );
  yield out(entryHeader({ path: "manifest.json", type: "file", size: manifest.length, mtimeMs: Date.now() }));
  yield out(manifest);
  yield out(dataPadding(manifest.length));
  yield archiveEnd(written);
}

// Cuts a stream into frames of `size` bytes (the last one shorter), each in
// a buffer of its own (they may be transferred to a helper worker).
export async function* frames(
  source: AsyncIterable<Uint8Array>,
  size: number,
  spare: () => Uint8Array | undefined = () => undefined,
): AsyncGenerator<Uint8Array> {
  const fresh = () => {
    const reused = spare();
    return reused && reused.length === size ? reused : new Uint8Array(size);
  };
  let frame = fresh();
  let used = 0;
  for await (let chunk of source) {
    while (chunk.length > 0) {
      const n = Math.min(size - used, chunk.length);
      frame.set(chunk.subarray(0, n), used);
      used += n;
      chunk = chunk.subarray(n);
      if (used === size) {
        yield frame;
        frame = fresh();
        used = 0;
      }
    }
  }
  if (used > 0) yield frame.slice(0, used);
}

// Compresses frames, up to `depth` at once, in order.
export async function* compressed(
  source: AsyncIterable<Uint8Array>,
  compressor: Compressor,
  depth: number,
): AsyncGenerator<Uint8Array> {
  const pending: Promise<Uint8Array>[] = [];
  for await (const frame of source) {
    pending.push(compressor.compress(frame));
    // Unhandled until awaited: a failure surfaces in order, below.
    pending[pending.length - 1]?.catch(() => {});
    if (pending.length >= depth) yield await pending.shift()!;
  }
  while (pending.length) yield await pending.shift()!;
}

// A ReadableStream that pulls from an async iterator only when read.
export function pulled(source: AsyncIterator<Uint8Array>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const { value, done } = await source.next();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      async cancel() {
        await source.return?.(undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

export type Sealing = { recipients: readonly string[] } | { passphrase: string };

// age to the link's X25519 recipients, or with scrypt and a passphrase.
export async function encrypted(plain: ReadableStream<Uint8Array>, sealing: Sealing): Promise<ReadableStream<Uint8Array>> {
  const encrypter = new Encrypter();
  if ("passphrase" in sealing) encrypter.setPassphrase(sealing.passphrase);
  else for (const recipient of sealing.recipients) encrypter.addRecipient(recipient);
  return encrypter.encrypt(plain);
}
