// The drop page's worker: files → tar → zstd → age → tus (docs/web.md). The
// page hands it the picked files and the link; it reports progress and the
// receipt. The same script serves as a zstd helper when named "zstd-N".
import { inlineCompressor, serveFrames, workerCompressor, type Compressor } from "./compress";
import { inlineHasher, serveHashes, workerHasher } from "./hashing";
import { compressed, encrypted, frames, pulled, tarStream, type Sealing } from "./pipeline";
import type { PageMessage, StartMessage, Tuning, WorkerMessage } from "./protocol";
import { startUpload, StreamSource, UploadFailure } from "./upload";
import { uuidV4 } from "./manifest";

declare const self: DedicatedWorkerGlobalScope;

const defaults: Tuning = {
  level: 1,
  frameSize: 4 << 20,
  helpers: 1, // zstd on a worker of its own: 146 against 124 MB/s (docs/performance.md)
  chunkSize: 8 << 20,
  retryDelays: [0, 1000, 2000, 3000, 5000, 10000, 20000, 30000],
  stage: 0,
  // Per-file SHA-256 inline: on a worker of its own, the 1 MiB batches
  // posted to it were left for the collectors to free late (124 of them, or
  // 124 MiB, alive at the renderer's peak), for no measurable speed on two
  // cores (docs/performance.md).
  hashWorker: 0,
};

// The knobs come from the page's query string: keep them sane.
function clamp(tuning: Tuning): Tuning {
  const within = (value: number, low: number, high: number) => Math.min(high, Math.max(low, Math.round(value)));
  return {
    ...tuning,
    level: within(tuning.level, -7, 19),
    frameSize: within(tuning.frameSize, 64 << 10, 32 << 20),
    helpers: within(tuning.helpers, 0, 4),
    chunkSize: within(tuning.chunkSize, 64 << 10, 64 << 20),
    stage: within(tuning.stage, 0, 3),
    hashWorker: within(tuning.hashWorker, 0, 1),
  };
}

function post(message: WorkerMessage): void {
  self.postMessage(message);
}

let cancel: (() => Promise<void>) | undefined;
let cancelled = false;

async function run(start: StartMessage): Promise<void> {
  const tuning = clamp({ ...defaults, ...start.tuning });
  const began = performance.now();
  let read = 0;
  let sent = 0;
  let lastPost = 0;
  const report = (force = false) => {
    const now = performance.now();
    if (force || now - lastPost > 100) {
      lastPost = now;
      post({ type: "progress", read, sent });
    }
  };
  const compressor: Compressor =
    tuning.helpers > 0
      ? await workerCompressor(tuning.helpers, tuning.level, self.location.href)
      : await inlineCompressor(tuning.level);
  const hasher = tuning.hashWorker ? await workerHasher(self.location.href) : await inlineHasher();
  try {
    const bundleId = uuidV4();
    const plain = tarStream(
      {
        files: start.files,
        directories: start.directories,
        bundleId,
        ticket: start.ticket,
        host: start.host,
        createdAt: new Date(),
      },
      hasher,
      (bytes) => {
        read += bytes;
        report();
      },
    );
    const sealing: Sealing = start.passphrase ? { passphrase: start.passphrase } : { recipients: start.recipients ?? [] };
    const depth = Math.max(1, tuning.helpers) + 1;
    if (tuning.stage === 1 || tuning.stage === 2) {
      const stream = tuning.stage === 1 ? plain : compressed(frames(plain, tuning.frameSize, () => compressor.spare?.()), compressor, depth);
      let size = 0;
      for await (const piece of stream) size += piece.length;
      report(true);
      post({ type: "done", bundleId, size, sha256: "", serverSha256: "", serverBundleId: "", seconds: (performance.now() - began) / 1000 });
      return;
    }
    const sealed = await encrypted(pulled(compressed(frames(plain, tuning.frameSize, () => compressor.spare?.()), compressor, depth)), sealing);
    if (tuning.stage === 3) {
      const reader = sealed.getReader();
      let size = 0;
      for (let r = await reader.read(); !r.done; r = await reader.read()) size += r.value.length;
      report(true);
      post({ type: "done", bundleId, size, sha256: "", serverSha256: "", serverBundleId: "", seconds: (performance.now() - began) / 1000 });
      return;
    }
    const source = new StreamSource(sealed.getReader(), tuning.chunkSize);
    const upload = startUpload(source, {
      endpoint: start.uploadUrl,
      token: start.token,
      filename: start.filename,
      ticket: start.ticket,
      chunkSize: tuning.chunkSize,
      retryDelays: tuning.retryDelays,
      onProgress: (bytes) => {
        sent = bytes;
        report();
      },
    });
    cancel = upload.cancel;
    const result = await upload.done;
    report(true);
    post({
      type: "done",
      bundleId,
      size: result.size,
      sha256: await source.sha256(),
      serverSha256: result.serverSha256,
      serverBundleId: result.bundleId,
      seconds: (performance.now() - began) / 1000,
    });
  } catch (error) {
    if (cancelled) return;
    if (error instanceof UploadFailure) post({ type: "failed", status: error.status, code: error.code, message: error.message });
    else post({ type: "failed", status: 0, code: "pipeline", message: error instanceof Error ? error.message : String(error) });
  } finally {
    compressor.close();
    hasher.close();
  }
}

if (self.name.startsWith("zstd-")) {
  serveFrames(self);
} else if (self.name === "sha") {
  void serveHashes(self);
} else {
  self.onmessage = (event: MessageEvent<PageMessage>) => {
    const message = event.data;
    if (message.type === "start") void run(message);
    else if (message.type === "cancel") {
      cancelled = true;
      void (cancel?.() ?? Promise.resolve()).then(() => post({ type: "cancelled" }));
    }
  };
}
