// Agents: the list (host, OS, version, last seen, certificate expiry,
// state) with filters, a page at a time (the first page, then "more": a
// fleet of 10,000 is not read at once), and enrollment tokens with the exact
// `valise-agent enroll` command (server URL and the CA's fingerprint,
// computed here from GET /api/v1/ca as `valise-server ca-fingerprint` does).
import { nextPage } from "../../shared/api";
import { h, replaceChildren } from "../../shared/dom";
import { link, paths } from "../router";
import { api } from "../session";
import { t } from "../strings";
import type { Agent } from "../types";
import { cell, copyable, errorText, field, listTable, message, option, stateBadge, when } from "../ui";
import type { View } from "../view";

export type AgentState = "active" | "revoked" | "expired";

export function agentState(agent: Agent): AgentState {
  if (agent.revoked) return "revoked";
  if (Date.parse(agent.cert_expires_at) <= Date.now()) return "expired";
  return "active";
}

// SHA256: and the hex SHA-256 of the CA certificate's DER.
export async function caFingerprint(): Promise<string> {
  const response = await fetch("/api/v1/ca", { cache: "no-store" });
  if (!response.ok) throw new Error(`GET /api/v1/ca: ${response.status}`);
  const pem = await response.text();
  const base64 = pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
  const der = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", der));
  return `SHA256:${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

// A page of GET /api/v1/agents (`path` under /api/v1) and the next one's path.
export async function agentsPage(path = "/agents"): Promise<{ agents: Agent[]; next: string | null }> {
  let next: string | null = null;
  const agents = await api<Agent[]>(path, { onHeaders: (headers) => (next = nextPage(headers)) });
  return { agents, next };
}

// Every agent, a page of 1,000 at a time (a request's choice of agent).
export async function allAgents(): Promise<Agent[]> {
  const out: Agent[] = [];
  for (let path: string | null = "/agents?limit=1000"; path; ) {
    const page = await agentsPage(path);
    out.push(...page.agents);
    path = page.next;
  }
  return out;
}

export function enrollCommand(token: string, fingerprint: string, server = location.origin): string {
  return `valise-agent enroll --token ${token} --ca-fingerprint ${fingerprint} --server ${server}`;
}

export function agentsView(): View {
  let agents: Agent[] = [];
  let next: string | null = null;
  const moreNote = h("p", { class: "hint" });
  const more = h("button", { type: "button" }, t("agents.more"));
  const pager = h("div", { class: "pager", hidden: true }, moreNote, more);
  const search = h("input", { type: "search", name: "search" });
  const stateFilter = h(
    "select",
    { name: "state" },
    option("", t("filter.all")),
    option("active", t("agents.state_active")),
    option("expired", t("agents.state_expired")),
    option("revoked", t("agents.state_revoked")),
  );
  const list = h("div", { class: "table-wrap" });
  const problem = message("alert");

  function draw(): void {
    pager.hidden = next === null;
    moreNote.textContent = t("agents.shown", { n: agents.length });
    const needle = search.value.trim().toLowerCase();
    const shown = agents.filter(
      (a) =>
        (!stateFilter.value || agentState(a) === stateFilter.value) &&
        (!needle || a.hostname.toLowerCase().includes(needle) || a.id.toLowerCase().includes(needle) || a.os.toLowerCase().includes(needle)),
    );
    if (shown.length === 0) {
      replaceChildren(list, h("p", {}, t("agents.none")));
      return;
    }
    const headers = [t("agents.host"), t("agents.os"), t("agents.version"), t("agents.last_seen"), t("agents.cert_expires"), t("agents.state")];
    replaceChildren(
      list,
      listTable(
        t("agents.title"),
        headers,
        shown.map((a) => {
          const state = agentState(a);
          return h(
            "tr",
            {},
            cell(headers[0]!, link(paths.agent(a.id), a.hostname), h("br"), h("small", {}, a.id)),
            cell(headers[1]!, a.os || "—", a.kernel ? h("small", {}, ` (${a.kernel})`) : null),
            cell(headers[2]!, a.version || "—"),
            cell(headers[3]!, when(a.last_seen)),
            cell(headers[4]!, when(a.cert_expires_at)),
            cell(headers[5]!, stateBadge(state, t(`agents.state_${state}`))),
          );
        }),
      ),
    );
  }

  // Each load starts the list over: a page that arrives from an older list
  // (a "more" or a load still in flight when an event reloaded) is dropped,
  // not appended to a first page it does not follow.
  let listGeneration = 0;

  // The first page again (after an enrollment or a revocation elsewhere).
  async function load(): Promise<void> {
    const generation = ++listGeneration;
    try {
      const page = await agentsPage();
      if (generation !== listGeneration) return;
      ({ agents, next } = page);
      problem.say("");
      draw();
    } catch (error) {
      if (generation === listGeneration) problem.say(errorText(error));
    }
  }
  more.addEventListener("click", async () => {
    if (!next) return;
    more.disabled = true;
    const generation = listGeneration;
    try {
      const page = await agentsPage(next);
      if (generation !== listGeneration) return;
      agents = [...agents, ...page.agents];
      next = page.next;
      problem.say("");
      draw();
    } catch (error) {
      problem.say(errorText(error));
    } finally {
      more.disabled = false;
    }
  });
  search.addEventListener("input", draw);
  stateFilter.addEventListener("change", draw);

  // Enrollment tokens.
  const expiry = h(
    "select",
    { name: "expires" },
    option("3600", t("links.expires_hours", { n: 1 }), true),
    option("86400", t("links.expires_days", { n: 1 })),
    option("604800", t("links.expires_days", { n: 7 })),
  );
  const enrollOut = h("div");
  const enrollProblem = message("alert");
  const enrollForm = h(
    "form",
    { class: "inline-form", "aria-labelledby": "enroll-title" },
    h("h2", { id: "enroll-title" }, t("enroll.title")),
    h("p", { class: "hint" }, t("enroll.explain")),
    field(t("enroll.expires"), expiry),
    h("button", { type: "submit", class: "primary" }, t("enroll.create")),
    enrollProblem,
    enrollOut,
  );
  enrollForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    enrollProblem.say("");
    try {
      const [created, fingerprint] = await Promise.all([
        api<{ id: string; token: string; expires_at: string }>("/enroll-tokens", { method: "POST", body: { expires_in_s: Number(expiry.value) } }),
        caFingerprint(),
      ]);
      replaceChildren(
        enrollOut,
        h("p", {}, t("enroll.created", { expires: new Date(created.expires_at).toLocaleString() })),
        copyable(t("enroll.command"), enrollCommand(created.token, fingerprint), t("enroll.copy")),
      );
      enrollOut.querySelector<HTMLButtonElement>("button")?.focus();
    } catch (error) {
      enrollProblem.say(errorText(error));
    }
  });

  void load();
  return {
    element: h(
      "section",
      { class: "agents" },
      h("h1", {}, t("agents.title")),
      h("div", { class: "filters", role: "search" }, field(t("agents.search"), search), field(t("agents.filter_state"), stateFilter)),
      problem,
      list,
      pager,
      enrollForm,
    ),
    title: t("agents.title"),
    onEvents: (events) => {
      if (events.some((e) => e.action.startsWith("agent."))) void load();
    },
  };
}
