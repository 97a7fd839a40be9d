// The tus upload of the encrypted stream (tus-js-client, resumable within
// the page session). The compressed size is unknown until the end, so the
// upload is created with a deferred length, set by the last PATCH.
import { createSHA256, type IHasher } from "hash-wasm";
import { DetailedError, Upload } from "tus-js-client";

// tus-js-client asks its source for slice(start, end) from the offset the
// server acknowledged (after a failure, from the offset HEAD reports). So
// the bytes from the lowest offset it may still ask for are kept, and no
// others: a chunk at most (plus what one read brings). It also computes the
// SHA-256 of everything it reads, for the receipt.
export class StreamSource {
  private readonly parts: Uint8Array[] = [];
  private base = 0; // stream offset of parts[0][0]
  private held = 0; // bytes in parts
  private ended = false;
  private failure: unknown;
  private pumping: Promise<void> | undefined;
  private readonly hasher: Promise<IHasher>;
  total = 0; // bytes read from the stream so far

  // `readAhead`: bytes kept ready beyond the slice being sent, so the
  // pipeline makes the next chunk while this one travels (one chunk).
  constructor(
    private readonly reader: ReadableStreamDefaultReader<Uint8Array>,
    private readonly readAhead: number,
  ) {
    this.hasher = createSHA256().then((h) => {
      h.init();
      return h;
    });
  }

  get size(): number | null {
    return null;
  }

  // Reads until `held` reaches `target` bytes or the stream ends.
  private fill(target: number): Promise<void> {
    const run = async () => {
      const hasher = await this.hasher;
      while (this.held < target && !this.ended) {
        const { value, done } = await this.reader.read();
        if (done) {
          this.ended = true;
          break;
        }
        hasher.update(value);
        this.total += value.length;
        this.parts.push(value);
        this.held += value.length;
      }
    };
    // One reader at a time: a fill waits for the one before it.
    const next = (this.pumping ?? Promise.resolve()).then(run);
    this.pumping = next.catch((error) => {
      this.failure ??= error;
    });
    return next;
  }

  async slice(start: number, end: number): Promise<{ value: Blob | null; done: boolean }> {
    if (this.failure) throw this.failure;
    if (start < this.base) throw new Error(`the upload asked for bytes from ${start}, already dropped (kept from ${this.base})`);
    this.drop(start - this.base);
    const want = end - start;
    await this.fill(want);
    const take = Math.min(want, this.held);
    const done = this.ended && take === this.held;
    // Make the next chunk while this one is sent.
    void this.fill(want + this.readAhead).catch(() => {});
    if (take === 0) return { value: done ? null : new Blob([]), done };
    const pieces: Uint8Array[] = [];
    let left = take;
    for (const part of this.parts) {
      if (left === 0) break;
      const piece = part.length > left ? part.subarray(0, left) : part;
      pieces.push(piece);
      left -= piece.length;
    }
    return { value: new Blob(pieces as BlobPart[]), done };
  }

  private drop(count: number): void {
    let left = count;
    while (left > 0 && this.parts.length) {
      const first = this.parts[0]!;
      if (first.length <= left) {
        this.parts.shift();
        left -= first.length;
      } else {
        this.parts[0] = first.subarray(left);
        left = 0;
      }
    }
    const dropped = count - left;
    this.base += dropped;
    this.held -= dropped;
  }

  async sha256(): Promise<string> {
    await this.pumping;
    return (await this.hasher).digest("hex");
  }

  close(): void {
    void this.reader.cancel().catch(() => {});
  }
}

export interface UploadOptions {
  endpoint: string;
  token: string;
  filename: string;
  ticket: string;
  chunkSize: number;
  retryDelays: number[];
  onProgress: (sent: number) => void;
}

export interface UploadResult {
  url: string;
  bundleId: string;
  serverSha256: string;
  size: number;
}

// What went wrong, for the page to pick its sentence: the server's error
// code when it answered, else "network".
export class UploadFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function failureOf(error: Error): UploadFailure {
  if (error instanceof DetailedError && error.originalResponse) {
    const response = error.originalResponse;
    const status = response.getStatus();
    let code = `http_${status}`;
    try {
      const body = JSON.parse(response.getBody() || "{}") as { error?: unknown };
      if (typeof body.error === "string") code = body.error;
    } catch {
      // not JSON: keep the status
    }
    return new UploadFailure(status, code, error.message);
  }
  if (error instanceof DetailedError) return new UploadFailure(0, "network", error.message);
  return new UploadFailure(0, "pipeline", error.message);
}

export function startUpload(source: StreamSource, options: UploadOptions): { done: Promise<UploadResult>; cancel: () => Promise<void> } {
  let upload: Upload;
  const done = new Promise<UploadResult>((resolve, reject) => {
    upload = new Upload(source as unknown as Blob, {
      endpoint: options.endpoint,
      headers: { Authorization: `Bearer ${options.token}` },
      metadata: { filename: options.filename, ticket: options.ticket },
      uploadLengthDeferred: true,
      chunkSize: options.chunkSize,
      retryDelays: options.retryDelays,
      storeFingerprintForResuming: false,
      removeFingerprintOnSuccess: true,
      fileReader: { openFile: async () => source as never },
      onProgress: (sent) => options.onProgress(sent),
      onShouldRetry: (error) => {
        // Retry what a restart or a dropped connection explains; not a
        // refusal (401, 403, 404, 409 resolved, 410, 413, 415).
        const status = error.originalResponse?.getStatus() ?? 0;
        if (status === 409) return failureOf(error).code !== "ticket_resolved"; // an offset mismatch
        return status === 0 || status === 423 || status >= 500;
      },
      onError: (error) => reject(failureOf(error)),
      onSuccess: ({ lastResponse }) => {
        resolve({
          url: upload.url ?? "",
          bundleId: lastResponse.getHeader("Valise-Bundle-Id") ?? "",
          serverSha256: lastResponse.getHeader("Valise-Bundle-Sha256") ?? "",
          size: source.total,
        });
      },
    });
    upload.start();
  });
  return {
    done,
    cancel: async () => {
      await upload.abort(true).catch(() => {});
    },
  };
}
