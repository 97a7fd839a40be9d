// The API's objects as docs/api.md describes them.
export type Severity = "blocking" | "semi-blocking" | "non-blocking";

export interface Ticket {
  ref: string;
  title: string;
  severity: Severity;
  status: "open" | "resolved";
  created_at: string;
  resolved_at: string | null;
  bundles: number;
  resolution?: string | null;
  // The [helpdesk.NAME] connector the ticket is followed from; null: made in valise.
  connector?: string | null;
  // Deadlines in business time (docs/calendar.md), RFC 3339 UTC or null.
  response_due_at?: string | null;
  due_at?: string | null;
  first_response_at?: string | null;
  pending?: boolean;
  pending_since?: string | null;
  overdue?: boolean;
  response_overdue?: boolean;
  // GET /tickets/{ref} only: the ticket's story, oldest first, a page at a time.
  timeline?: TimelineEvent[];
  timeline_next?: number | null;
}

// An audit record of the ticket, as the timeline gives it (docs/api.md).
export interface TimelineEvent {
  seq: number;
  at: string;
  kind: string;
  actor: string;
  text: string;
  details: Record<string, unknown>;
}

export interface Bundle {
  id: string;
  ticket: string;
  filename: string;
  size: number;
  sha256: string;
  created_at: string;
  source: string;
}

export interface Link {
  id: string;
  expires_at: string;
  max_bytes: number;
  used_bytes: number;
  revoked: boolean;
  mode?: "recipients" | "passphrase";
  recipients?: string[];
}

export interface NewLink extends Link {
  token: string;
  upload_url: string;
  drop_url?: string;
}

export interface Upload {
  id: string;
  filename: string;
  offset: number;
  length: number | null;
  source: string;
  created_at: string;
  updated_at: string;
}

export interface Agent {
  id: string;
  hostname: string;
  os: string;
  kernel: string;
  version: string;
  profiles: string[];
  max_upload_bytes: number | null;
  last_seen: string | null;
  enrolled_at: string;
  cert_expires_at: string;
  revoked: boolean;
  revoked_at: string | null;
}

export type RequestState = "queued" | "awaiting_approval" | "collecting" | "uploading" | "done" | "failed";

export interface DiagnosticsRequest {
  id: string;
  ticket: string;
  agent: string;
  profile: string;
  since: string | null;
  until: string | null;
  state: RequestState;
  bundle_id: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuditRecord {
  seq: number;
  time: string;
  actor: string;
  action: string;
  ticket: string;
  detail: Record<string, unknown>;
}

export interface Purged {
  id: string;
  size: number;
  sha256: string;
}

export interface ResolveAnswer {
  ticket: Ticket;
  purged: Purged[];
  cancelled_uploads: { id: string; offset: number }[];
}

export interface UserAccount {
  name: string;
  role: "technician" | "admin";
  disabled: boolean;
  created_at: string;
  last_sign_in: string | null;
}
