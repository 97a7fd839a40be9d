// One agent: its facts, the profiles it offers for remote requests, its
// requests, and revoke (with confirmation; there is no un-revoke).
import { ApiError } from "../../shared/api";
import { h, replaceChildren } from "../../shared/dom";
import { link, paths } from "../router";
import { api } from "../session";
import { t } from "../strings";
import type { Agent, DiagnosticsRequest } from "../types";
import { confirmDialog, errorText, message, size, stateBadge, when } from "../ui";
import type { View } from "../view";
import { agentState } from "./agents";

export function agentView(id: string): View {
  const heading = h("h1", {}, id);
  const facts = h("div");
  const profiles = h("div");
  const requests = h("div");
  const actions = h("div", { class: "actions" });
  const problem = message("alert");

  async function load(): Promise<void> {
    let agent: Agent;
    try {
      agent = await api<Agent>(`/agents/${encodeURIComponent(id)}`);
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) replaceChildren(heading, t("agent.not_found", { id }));
      else problem.say(errorText(error));
      return;
    }
    const state = agentState(agent);
    replaceChildren(heading, agent.hostname);
    const row = (label: string, ...value: (Node | string)[]) => [h("dt", {}, label), h("dd", {}, ...value)];
    replaceChildren(
      facts,
      h(
        "dl",
        { class: "facts" },
        ...row(t("agents.state"), stateBadge(state, t(`agents.state_${state}`))),
        ...row("ID", h("code", {}, agent.id)),
        ...row(t("agents.os"), `${agent.os || "—"} ${agent.kernel ? `(${agent.kernel})` : ""}`),
        ...row(t("agents.version"), agent.version || "—"),
        ...row(t("agents.last_seen"), when(agent.last_seen)),
        ...row(t("agents.enrolled"), when(agent.enrolled_at)),
        ...row(t("agents.cert_expires"), when(agent.cert_expires_at)),
        ...row(t("agents.max_upload"), agent.max_upload_bytes ? size(agent.max_upload_bytes) : "—"),
        ...(agent.revoked_at ? row(t("agents.revoked_at"), when(agent.revoked_at)) : []),
      ),
    );
    replaceChildren(
      profiles,
      agent.profiles.length ? h("ul", {}, ...agent.profiles.map((p) => h("li", {}, h("code", {}, p)))) : h("p", {}, t("agent.no_profiles")),
    );
    if (agent.revoked) replaceChildren(actions);
    else {
      const revoke = h("button", { type: "button", class: "danger" }, t("agent.revoke"));
      revoke.addEventListener("click", async () => {
        const ok = await confirmDialog(t("agent.revoke_title", { host: agent.hostname }), [h("p", {}, t("agent.revoke_body"))], t("agent.revoke"));
        if (!ok) return;
        try {
          await api(`/agents/${encodeURIComponent(id)}/revoke`, { method: "POST" });
          await load();
        } catch (error) {
          problem.say(errorText(error));
        }
      });
      replaceChildren(actions, revoke);
    }
    try {
      const list = await api<DiagnosticsRequest[]>(`/requests?agent=${encodeURIComponent(id)}`);
      replaceChildren(
        requests,
        list.length
          ? h(
              "ul",
              { class: "requests" },
              ...list
                .slice()
                .reverse()
                .map((r) =>
                  h(
                    "li",
                    {},
                    link(paths.ticket(r.ticket), r.ticket),
                    ` · ${r.profile} · `,
                    stateBadge(r.state, t(`state.${r.state}`)),
                    r.error ? ` ${t("requests.reason", { reason: r.error })}` : "",
                    " · ",
                    when(r.updated_at),
                  ),
                ),
            )
          : h("p", {}, t("requests.none")),
      );
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  void load();
  return {
    element: h(
      "article",
      { class: "agent" },
      h("p", { class: "crumbs" }, link(paths.agents(), t("nav.agents"))),
      h("div", { class: "title-row" }, heading, actions),
      problem,
      facts,
      h("section", { class: "panel", "aria-labelledby": "profiles-title" }, h("h2", { id: "profiles-title" }, t("agent.profiles")), profiles),
      h("section", { class: "panel", "aria-labelledby": "agent-requests-title" }, h("h2", { id: "agent-requests-title" }, t("requests.title")), requests),
    ),
    title: id,
    onEvents: (events) => {
      if (events.some((e) => e.action.startsWith("agent.") || (e.action.startsWith("request.") && e.detail?.agent === id))) void load();
    },
  };
}
