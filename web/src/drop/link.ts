// The upload link the page was opened with: GET /api/v1/link, its token
// (from the URL's fragment) as the Bearer token.
import { call } from "../shared/api";

export interface LinkInfo {
  id: string;
  ticket: { ref: string; title: string; status: string };
  mode: "recipients" | "passphrase";
  recipients: { key: string; fingerprint: string }[];
  max_bytes: number;
  used_bytes: number;
  expires_at: string;
  upload_url: string;
  max_upload_bytes: number;
}

export function fetchLink(token: string): Promise<LinkInfo> {
  return call<LinkInfo>("/link", { token });
}

// What the link can still receive in one upload.
export function remainingBytes(link: LinkInfo): number {
  const budget = Math.max(0, link.max_bytes - link.used_bytes);
  return link.max_upload_bytes > 0 ? Math.min(budget, link.max_upload_bytes) : budget;
}

// The token from location.hash, then gone from the address bar (and so
// from bookmarks, history entries and screenshots); the page keeps it in
// memory only.
export function takeToken(): string {
  const token = decodeURIComponent(location.hash.replace(/^#/, "")).trim();
  if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
  return token;
}
