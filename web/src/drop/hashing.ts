// Per-file SHA-256 (hash-wasm), inline on the pipeline's thread by default.
// `?hashWorker=1` runs it on a worker of its own (the same script, named
// "sha"), fed copies of the bytes in batches of 1 MiB, at most 8 MiB in
// flight: hashing is the costliest stage (about 4.5 CPU-s per GiB against 3
// for reading), but the batches were freed so late that they cost 120 MiB
// at the renderer's peak, for no speed on two cores (docs/performance.md).
// Inline when that worker does not start.
import { createSHA256, type IHasher } from "hash-wasm";

export interface FileHasher {
  begin(): void;
  update(bytes: Uint8Array): Promise<void> | void;
  end(): Promise<string>; // this file's digest, hex
  close(): void;
}

export async function inlineHasher(): Promise<FileHasher> {
  const hasher: IHasher = await createSHA256();
  return {
    begin: () => hasher.init(),
    update: (bytes) => {
      hasher.update(bytes);
    },
    end: async () => hasher.digest("hex"),
    close: () => {},
  };
}

type HashRequest = { kind: "begin" } | { kind: "data"; bytes: Uint8Array } | { kind: "end"; id: number };
// An ack hands the batch's buffer back, to be filled again: no garbage for
// the collectors of two threads to find late.
type HashAnswer = { kind: "ready" } | { kind: "ack"; buffer: Uint8Array } | { kind: "digest"; id: number; hex: string };

const BATCH = 1 << 20;
const IN_FLIGHT = 8 << 20;

export async function workerHasher(scriptUrl: string): Promise<FileHasher> {
  const worker = new Worker(scriptUrl, { type: "module", name: "sha" });
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    worker.onmessage = (event: MessageEvent<HashAnswer>) => {
      clearTimeout(timer);
      resolve(event.data.kind === "ready");
    };
    worker.onerror = () => {
      clearTimeout(timer);
      resolve(false);
    };
  });
  if (!ready) {
    worker.terminate();
    return inlineHasher();
  }
  let inFlight = 0;
  let wakeUp: (() => void) | undefined;
  const digests = new Map<number, (hex: string) => void>();
  const spare: Uint8Array[] = [];
  let failure: Error | undefined;
  worker.onmessage = (event: MessageEvent<HashAnswer>) => {
    const answer = event.data;
    if (answer.kind === "ack") {
      inFlight -= answer.buffer.length;
      if (answer.buffer.length === BATCH) spare.push(answer.buffer);
      wakeUp?.();
    } else if (answer.kind === "digest") {
      digests.get(answer.id)?.(answer.hex);
      digests.delete(answer.id);
    }
  };
  worker.onerror = (event) => {
    failure = new Error(event.message || "the hashing worker failed");
    wakeUp?.();
  };
  let batch: Uint8Array = new Uint8Array(BATCH);
  let used = 0;
  let files = 0;
  const send = (request: HashRequest, transfer: Transferable[] = []) => worker.postMessage(request, transfer);
  const flush = async () => {
    if (used === 0) return;
    const bytes = used === BATCH ? batch : batch.slice(0, used);
    send({ kind: "data", bytes }, [bytes.buffer]);
    inFlight += bytes.length;
    batch = spare.pop() ?? new Uint8Array(BATCH);
    used = 0;
    while (inFlight > IN_FLIGHT && !failure) await new Promise<void>((resolve) => (wakeUp = resolve));
    if (failure) throw failure;
  };
  return {
    begin: () => send({ kind: "begin" }),
    async update(bytes) {
      let rest = bytes;
      while (rest.length > 0) {
        const n = Math.min(BATCH - used, rest.length);
        batch.set(rest.subarray(0, n), used);
        used += n;
        rest = rest.subarray(n);
        if (used === BATCH) await flush();
      }
    },
    async end() {
      await flush();
      const id = files++;
      const digest = new Promise<string>((resolve) => digests.set(id, resolve));
      send({ kind: "end", id });
      return digest;
    },
    close: () => worker.terminate(),
  };
}

// The hashing worker's side.
export async function serveHashes(scope: DedicatedWorkerGlobalScope): Promise<void> {
  const hasher = await createSHA256();
  scope.onmessage = (event: MessageEvent<HashRequest>) => {
    const request = event.data;
    if (request.kind === "begin") hasher.init();
    else if (request.kind === "data") {
      hasher.update(request.bytes);
      scope.postMessage({ kind: "ack", buffer: request.bytes } satisfies HashAnswer, [request.bytes.buffer]);
    } else scope.postMessage({ kind: "digest", id: request.id, hex: hasher.digest("hex") } satisfies HashAnswer);
  };
  scope.postMessage({ kind: "ready" } satisfies HashAnswer);
}
