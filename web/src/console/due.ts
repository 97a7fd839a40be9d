// A ticket's due badge: overdue (red), due soon (amber), pending (grey, its
// clock stopped), else its due date. "Soon" is wall-clock time: the browser
// has no business calendar (the server has), so a ticket due within the
// next 4 hours, or whose first response is late, is amber.
import { h } from "../shared/dom";
import { t } from "./strings";
import type { Ticket } from "./types";
import { when } from "./ui";

export type DueState = "overdue" | "soon" | "pending" | "due" | "none";

const soonMs = 4 * 3600 * 1000;

export function dueState(ticket: Ticket, nowMs: number): DueState {
  if (ticket.status !== "open") return "none";
  if (ticket.pending) return "pending";
  if (ticket.overdue) return "overdue";
  if (!ticket.due_at) return "none";
  if (ticket.response_overdue || Date.parse(ticket.due_at) - nowMs <= soonMs) return "soon";
  return "due";
}

export function dueBadge(ticket: Ticket, nowMs: number = Date.now()): HTMLElement {
  const state = dueState(ticket, nowMs);
  switch (state) {
    case "none":
      return h("span", {}, "—");
    case "pending":
      return h("span", { class: "badge due-pending" }, t("due.pending"));
    case "due":
      return h("span", {}, when(ticket.due_at));
  }
  return h("span", { class: `badge due-${state}` }, t(`due.${state}`), " ", when(ticket.due_at));
}
