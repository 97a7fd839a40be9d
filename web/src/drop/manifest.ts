// manifest.json, the bundle's last entry, in the format of
// docs/bundle-format.md (format 1), with "source": "browser" at the top.
// `valise open` checks every stored file against its item.

export interface ManifestItem {
  path: string;
  source: string; // the name as the browser gave it
  size: number;
  sha256: string;
  error: string;
  truncated: boolean;
}

export interface ManifestInput {
  bundleId: string;
  ticket: string;
  host: string;
  createdAt: Date;
  items: readonly ManifestItem[];
  notes: readonly string[];
}

// RFC 3339 UTC to the second, as the agent writes it.
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

// A random (version 4) UUID.
export function uuidV4(random: (out: Uint8Array) => void = (out) => crypto.getRandomValues(out)): string {
  const b = new Uint8Array(16);
  random(b);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const hex = [...b].map((byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function manifestJson(input: ManifestInput): string {
  return JSON.stringify({
    format: 1,
    bundle_id: input.bundleId,
    ticket: input.ticket,
    host: input.host,
    profile: "",
    created_at: rfc3339(input.createdAt),
    since: null,
    until: null,
    redactions: 0,
    source: "browser",
    items: input.items.map((item) => ({
      path: item.path,
      source: item.source,
      size: item.size,
      sha256: item.sha256,
      error: item.error,
      truncated: item.truncated,
      redactions: 0,
      redactions_by_rule: {},
    })),
    notes: input.notes,
  });
}
