// The tickets list: search by ref or title, filter by status and severity,
// sort by any column (the due date among them, with its badge); and the form
// that creates a ticket.
import { h, replaceChildren } from "../../shared/dom";
import { link, navigate, paths } from "../router";
import { api } from "../session";
import { t } from "../strings";
import { dueBadge } from "../due";
import type { Severity, Ticket } from "../types";
import { errorText, field, message, option, stateBadge, when } from "../ui";
import type { View } from "../view";

type SortKey = "ref" | "title" | "status" | "severity" | "bundles" | "created_at" | "due_at";
const severityRank: Record<Severity, number> = { blocking: 0, "semi-blocking": 1, "non-blocking": 2 };

export function severityText(severity: Severity): string {
  return t(`severity.${severity}`);
}

export function ticketsView(): View {
  let tickets: Ticket[] = [];
  let sort: { key: SortKey; ascending: boolean } = { key: "created_at", ascending: false };

  const search = h("input", { type: "search", name: "search" });
  const status = h(
    "select",
    { name: "status" },
    option("open", t("status.open"), true),
    option("resolved", t("status.resolved")),
    option("", t("filter.all")),
  );
  const severity = h(
    "select",
    { name: "severity" },
    option("", t("filter.all")),
    ...(["blocking", "semi-blocking", "non-blocking"] as Severity[]).map((s) => option(s, severityText(s))),
  );
  const table = h("div", { class: "table-wrap" });
  const problem = message("alert");
  const count = message();

  function compare(a: Ticket, b: Ticket): number {
    const key = sort.key;
    let result: number;
    if (key === "bundles") result = a.bundles - b.bundles;
    else if (key === "severity") result = severityRank[a.severity] - severityRank[b.severity];
    else if (key === "due_at") {
      // Tickets without a due date (pending, resolved) stay last either way.
      if (!a.due_at || !b.due_at) return (a.due_at ? 0 : 1) - (b.due_at ? 0 : 1);
      result = Date.parse(a.due_at) - Date.parse(b.due_at);
    } else result = String(a[key]).localeCompare(String(b[key]));
    return sort.ascending ? result : -result;
  }

  function header(key: SortKey, text: string): HTMLElement {
    const active = sort.key === key;
    const button = h("button", { type: "button", class: "sort" }, text);
    button.addEventListener("click", () => {
      sort = { key, ascending: active ? !sort.ascending : key !== "created_at" };
      draw();
      table.querySelector<HTMLElement>(`th[data-key="${key}"] button`)?.focus();
    });
    return h(
      "th",
      { scope: "col", "data-key": key, "aria-sort": active ? (sort.ascending ? "ascending" : "descending") : "none" },
      button,
    );
  }

  function draw(): void {
    const needle = search.value.trim().toLowerCase();
    const shown = tickets
      .filter((ticket) => !needle || ticket.ref.toLowerCase().includes(needle) || ticket.title.toLowerCase().includes(needle))
      .sort(compare);
    const now = Date.now();
    count.say(t("tickets.count", { n: shown.length }));
    if (shown.length === 0) {
      replaceChildren(table, h("p", {}, t("tickets.none")));
      return;
    }
    replaceChildren(
      table,
      h(
        "table",
        { class: "list" },
        h("caption", { class: "visually-hidden" }, t("tickets.title")),
        h(
          "thead",
          {},
          h(
            "tr",
            {},
            header("ref", t("ticket.ref")),
            header("title", t("ticket.title")),
            header("status", t("ticket.status")),
            header("severity", t("ticket.severity")),
            header("bundles", t("ticket.bundles")),
            header("created_at", t("ticket.age")),
            header("due_at", t("ticket.due")),
          ),
        ),
        h(
          "tbody",
          {},
          ...shown.map((ticket) =>
            h(
              "tr",
              {},
              h("td", { "data-label": t("ticket.ref") }, link(paths.ticket(ticket.ref), ticket.ref)),
              h("td", { "data-label": t("ticket.title") }, ticket.title),
              h("td", { "data-label": t("ticket.status") }, stateBadge(ticket.status, t(`status.${ticket.status}`))),
              h("td", { "data-label": t("ticket.severity") }, stateBadge(ticket.severity, severityText(ticket.severity))),
              h("td", { "data-label": t("ticket.bundles"), class: "number" }, String(ticket.bundles)),
              h("td", { "data-label": t("ticket.age") }, when(ticket.created_at)),
              h("td", { "data-label": t("ticket.due") }, dueBadge(ticket, now)),
            ),
          ),
        ),
      ),
    );
  }

  async function load(): Promise<void> {
    const query = new URLSearchParams({ limit: "1000" });
    if (status.value) query.set("status", status.value);
    if (severity.value) query.set("severity", severity.value);
    try {
      tickets = await api<Ticket[]>(`/tickets?${query}`);
      problem.say("");
      draw();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  search.addEventListener("input", draw);
  status.addEventListener("change", load);
  severity.addEventListener("change", load);

  // Create a ticket.
  const ref = h("input", { type: "text", name: "ref", required: true, maxlength: 64, pattern: "[A-Za-z0-9_\\-][A-Za-z0-9._\\-]*", autocomplete: "off" });
  const title = h("input", { type: "text", name: "title", required: true, maxlength: 500, autocomplete: "off" });
  const newSeverity = h(
    "select",
    { name: "severity" },
    ...(["non-blocking", "semi-blocking", "blocking"] as Severity[]).map((s) => option(s, severityText(s))),
  );
  const createProblem = message("alert");
  const create = h(
    "form",
    { class: "inline-form", "aria-labelledby": "create-ticket-title" },
    h("h2", { id: "create-ticket-title" }, t("tickets.create")),
    field(t("ticket.ref"), ref, t("ticket.ref_hint")),
    field(t("ticket.title"), title),
    field(t("ticket.severity"), newSeverity),
    h("button", { type: "submit", class: "primary" }, t("tickets.create_submit")),
    createProblem,
  );
  create.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      const ticket = await api<Ticket>("/tickets", {
        method: "POST",
        body: { ref: ref.value.trim(), title: title.value.trim(), severity: newSeverity.value },
      });
      navigate(paths.ticket(ticket.ref));
    } catch (error) {
      createProblem.say(errorText(error));
    }
  });

  void load();
  const element = h(
    "section",
    { class: "tickets" },
    h("h1", {}, t("tickets.title")),
    h(
      "div",
      { class: "filters", role: "search" },
      field(t("tickets.search"), search),
      field(t("tickets.filter_status"), status),
      field(t("tickets.filter_severity"), severity),
    ),
    problem,
    count,
    table,
    create,
  );
  return {
    element,
    title: t("tickets.title"),
    onEvents: (events) => {
      if (events.some((event) => event.ticket)) void load();
    },
  };
}
