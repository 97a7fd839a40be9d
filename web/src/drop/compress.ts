// zstd in WebAssembly (@bokuweb/zstd-wasm: libzstd's one-shot ZSTD_compress,
// measured faster than the alternatives, docs/web.md). The tar stream is cut
// into frames of a few MiB, each compressed on its own: concatenated frames
// are one zstd stream to `zstd -d` and libarchive (docs/bundle-format.md),
// and independent frames can be compressed by several workers at once.
import { compress, init } from "@bokuweb/zstd-wasm";
// esbuild's file loader: the hashed URL of the .wasm under /assets (by path:
// the package exports only its JS).
import zstdWasmUrl from "../../node_modules/@bokuweb/zstd-wasm/dist/web/zstd.wasm";

export interface Compressor {
  compress(frame: Uint8Array): Promise<Uint8Array>;
  // A frame buffer to fill, handed back by a helper (or undefined).
  spare?(): Uint8Array | undefined;
  close(): void;
}

let ready: Promise<void> | undefined;

export function loadZstd(): Promise<void> {
  // init() takes the .wasm URL (its types omit the parameter).
  ready ??= (init as (path?: string) => Promise<void>)(new URL(zstdWasmUrl, self.location.href).href);
  return ready;
}

export function compressFrame(frame: Uint8Array, level: number): Uint8Array {
  return compress(frame, level);
}

// Compresses on the calling thread.
export async function inlineCompressor(level: number): Promise<Compressor> {
  await loadZstd();
  return { compress: async (frame) => compressFrame(frame, level), close: () => {} };
}

// Messages between the pipeline worker and its zstd helpers (the same
// script, started with role "zstd" in its name).
export interface FrameRequest {
  id: number;
  frame: Uint8Array;
  level: number;
}
export interface FrameAnswer {
  id: number;
  frame?: Uint8Array;
  input?: Uint8Array; // the request's buffer, handed back for reuse
  error?: string;
}

// Compresses on `count` helper workers, each frame to the least busy one.
// A helper says it is ready (id -1) once its script runs: a browser does not
// always report a worker that failed to load, so one silent for 10 s means
// compressing on the calling thread instead.
export async function workerCompressor(count: number, level: number, scriptUrl: string): Promise<Compressor> {
  const helpers = Array.from({ length: count }, (_, i) => {
    const worker = new Worker(scriptUrl, { type: "module", name: `zstd-${i}` });
    return { worker, busy: 0 };
  });
  const started = await Promise.all(
    helpers.map(
      (helper) =>
        new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 10_000);
          helper.worker.onmessage = () => {
            clearTimeout(timer);
            resolve(true);
          };
          helper.worker.onerror = () => {
            clearTimeout(timer);
            resolve(false);
          };
        }),
    ),
  );
  if (!started.every(Boolean)) {
    for (const helper of helpers) helper.worker.terminate();
    return inlineCompressor(level);
  }
  const waiting = new Map<number, { resolve: (frame: Uint8Array) => void; reject: (error: Error) => void }>();
  const spares: Uint8Array[] = [];
  let next = 0;
  let broken: Error | undefined; // a helper that failed fails every frame after it
  for (const helper of helpers) {
    helper.worker.onmessage = (event: MessageEvent<FrameAnswer>) => {
      helper.busy--;
      const { id, frame, input, error } = event.data;
      if (input && spares.length < 4) spares.push(input);
      const waiter = waiting.get(id);
      waiting.delete(id);
      if (frame) waiter?.resolve(frame);
      else waiter?.reject(new Error(error ?? "compression failed"));
    };
    helper.worker.onerror = (event) => {
      broken = new Error(event.message || "a compression worker did not start");
      for (const waiter of waiting.values()) waiter.reject(broken);
      waiting.clear();
    };
  }
  return {
    compress(frame) {
      if (broken) return Promise.reject(broken);
      const helper = helpers.reduce((a, b) => (b.busy < a.busy ? b : a));
      helper.busy++;
      const id = next++;
      return new Promise((resolve, reject) => {
        waiting.set(id, { resolve, reject });
        const request: FrameRequest = { id, frame, level };
        helper.worker.postMessage(request, [frame.buffer]);
      });
    },
    spare: () => spares.pop(),
    close() {
      for (const helper of helpers) helper.worker.terminate();
    },
  };
}

// A helper's side: answers FrameRequests.
export function serveFrames(scope: DedicatedWorkerGlobalScope): void {
  void loadZstd().then(() => scope.postMessage({ id: -1 } satisfies FrameAnswer));
  scope.onmessage = async (event: MessageEvent<FrameRequest>) => {
    const { id, frame, level } = event.data;
    try {
      await loadZstd();
      const out = compressFrame(frame, level);
      const answer: FrameAnswer = { id, frame: out, input: frame };
      scope.postMessage(answer, [out.buffer, frame.buffer]);
    } catch (error) {
      const answer: FrameAnswer = { id, error: String(error) };
      scope.postMessage(answer);
    }
  };
}
