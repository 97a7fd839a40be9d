// Calls to /api/v1 on the page's own origin. An error answer becomes an
// ApiError carrying the server's stable code, so pages choose their sentence
// by code rather than showing the server's text.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  token?: string; // a bearer token (the drop page's link)
  headers?: Record<string, string>;
  signal?: AbortSignal;
  // Told the headers of a successful answer (a paged list's Link).
  onHeaders?: (headers: Headers) => void;
}

// The path under /api/v1 of a Link header's rel="next" (RFC 8288), as
// GET /api/v1/agents names its next page; null at the last page.
export function nextPage(headers: Headers): string | null {
  const found = /<\/api\/v1(\/[^>]*)>\s*;\s*rel="next"/.exec(headers.get("Link") ?? "");
  return found ? found[1]! : null;
}

export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, {
      method: options.method ?? "GET",
      headers,
      body,
      credentials: "same-origin",
      cache: "no-store",
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new ApiError(0, "network", "the server could not be reached");
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!response.ok) {
    const error = (parsed ?? {}) as { error?: string; message?: string };
    const retry = Number(response.headers.get("Retry-After"));
    throw new ApiError(
      response.status,
      error.error ?? `http_${response.status}`,
      error.message ?? response.statusText,
      Number.isFinite(retry) && retry > 0 ? retry : undefined,
    );
  }
  options.onHeaders?.(response.headers);
  return parsed as T;
}
