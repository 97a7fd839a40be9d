// A ticket's audit records as plain sentences ("alice created upload link
// lnk_…, valid until …"), in the page's language. Unknown actions still
// get a line (actor and action name), so nothing is hidden.
import { absoluteTime } from "../shared/time";
import { language, t } from "./strings";
import type { AuditRecord, TimelineEvent } from "./types";
import { size } from "./ui";

export function actorText(actor: string): string {
  const colon = actor.indexOf(":");
  if (actor === "system") return t("actor.system");
  if (colon < 0) return actor;
  const kind = actor.slice(0, colon);
  const name = actor.slice(colon + 1);
  switch (kind) {
    case "user":
      return name;
    case "technician":
    case "admin":
      return t("actor.token", { name });
    case "link":
      return t("actor.link", { id: name });
    case "agent":
      return t("actor.agent", { id: name });
    case "helpdesk":
      return t("actor.helpdesk", { name });
  }
  return actor;
}

function text(value: unknown): string {
  return typeof value === "string" || typeof value === "number" ? String(value) : "";
}

function bytes(value: unknown): string {
  return typeof value === "number" ? size(value) : "?";
}

function count(value: unknown): number {
  return Array.isArray(value) ? value.length : 0;
}

export function auditSentence(record: AuditRecord): string {
  const d = record.detail ?? {};
  const actor = actorText(record.actor);
  const values: Record<string, string | number> = {
    actor,
    id: text(d.id),
    upload: text(d.upload),
    bundle: text(d.bundle),
    filename: text(d.filename) || "?",
    size: bytes(d.size ?? d.length),
    max: bytes(d.max_bytes),
    expires: typeof d.expires_at === "number" ? absoluteTime(new Date(d.expires_at * 1000).toISOString(), language) : text(d.expires_at),
    request: text(d.request),
    agent: text(d.agent),
    profile: text(d.profile),
    from: d.from ? t(`state.${text(d.from)}`) : "",
    to: d.to ? t(`state.${text(d.to)}`) : "",
    reason: text(d.reason) || text(d.error),
    severity: d.severity ? t(`severity.${text(d.severity)}`) : "",
    bundles: count(d.bundles),
    uploads: count(d.uploads),
    text: text(d.text),
    resolution: text(d.resolution),
    title: text(d.title),
    status: text(d.status),
    event: d.event ? t(`helpdesk.${text(d.event)}`) : "",
    resolve_at: typeof d.resolve_at === "number" ? absoluteTime(new Date(d.resolve_at * 1000).toISOString(), language) : "?",
    delivery: text(d.event),
    target: text(d.target),
  };
  switch (record.action) {
    case "ticket.resolved":
      return t(values.resolution ? "audit.ticket.resolved_text" : "audit.ticket.resolved", values);
    case "ticket.created":
    case "comment.added":
    case "ticket.reopened":
    case "ticket.pending":
    case "ticket.resumed":
    case "link.created":
    case "link.revoked":
    case "upload.started":
    case "upload.completed":
    case "upload.terminated":
    case "upload.replaced":
    case "bundle.downloaded":
    case "request.created":
      return t(`audit.${record.action}`, values);
    case "ticket.updated":
      return t(d.title !== undefined ? "audit.ticket.renamed" : d.severity !== undefined ? "audit.ticket.severity" : "audit.ticket.followed", values);
    case "helpdesk.resolution_scheduled":
    case "helpdesk.resolution_cancelled":
    case "helpdesk.received":
      return t(`audit.${record.action}`, values);
    case "upload.refused":
      return t(values.reason ? "audit.upload.refused_reason" : "audit.upload.refused", values);
    case "request.state_changed":
      return t(values.reason && d.to === "failed" ? "audit.request.failed" : "audit.request.state_changed", values);
    case "bundle.deleted":
    case "purge.resolved":
    case "purge.retention":
    case "purge.expired_upload":
    case "outbox.delivered":
    case "outbox.given_up":
    case "outbox.retried":
    case "outbox.dropped":
      return t(`audit.${record.action}`, values);
  }
  return t("audit.other", { actor, action: record.action });
}

// A timeline event says the same as the record it came from: the page's
// language rather than the server's English `text`.
export function eventRecord(e: TimelineEvent): AuditRecord {
  return { seq: e.seq, time: e.at, actor: e.actor, action: e.kind, ticket: "", detail: e.details };
}
