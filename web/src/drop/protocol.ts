// Messages between the drop page and its pipeline worker.

export interface StartMessage {
  type: "start";
  files: { file: File; path: string; source: string }[];
  directories: string[];
  token: string;
  uploadUrl: string;
  ticket: string;
  host: string;
  filename: string;
  recipients?: string[];
  passphrase?: string;
  tuning?: Partial<Tuning>;
}

// Knobs the benchmark turns (bench/browser-drop); the page uses the defaults.
export interface Tuning {
  level: number; // zstd level
  frameSize: number; // bytes of plaintext per zstd frame
  helpers: number; // zstd helper workers (0: compress in the pipeline worker)
  chunkSize: number; // bytes per PATCH
  retryDelays: number[];
  // Benchmark only: stop after a stage and discard its output, to time the
  // stages apart (1: read + hash + tar, 2: + zstd, 3: + age; 0: upload too).
  stage: number;
  hashWorker: number; // 1: per-file SHA-256 on a worker of its own; 0: inline
}

export type WorkerMessage =
  | { type: "progress"; read: number; sent: number }
  | { type: "done"; bundleId: string; size: number; sha256: string; serverSha256: string; serverBundleId: string; seconds: number }
  | { type: "failed"; status: number; code: string; message: string }
  | { type: "cancelled" };

export type PageMessage = StartMessage | { type: "cancel" };
