// One ticket: its bundles (download, the command that opens one, delete),
// upload links, uploads in flight with live progress, diagnostics requests
// to agents, the timeline with its comment box, and resolve (with what it
// destroys and an optional resolution text, then the purge receipt) or
// reopen. Bundles are never decrypted here: the page hands the technician
// the file and the `valise open` command.
import { ApiError } from "../../shared/api";
import { h, replaceChildren } from "../../shared/dom";
import { keyFingerprint } from "../../shared/fingerprint";
import { auditSentence, eventRecord } from "../audit";
import { link, paths } from "../router";
import { api } from "../session";
import { t } from "../strings";
import { dueBadge } from "../due";
import type { Agent, Bundle, DiagnosticsRequest, Link, NewLink, ResolveAnswer, Ticket, Upload } from "../types";
import { cell, confirmDialog, copyable, errorText, field, listTable, message, option, size, stateBadge, when } from "../ui";
import type { View } from "../view";
import { allAgents } from "./agents";
import { severityText } from "./tickets";

const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export function openCommand(bundle: Bundle): string {
  const file = bundle.filename.replace(/[/\\]/g, "_") || `${bundle.id}.vls`;
  return `valise open ${quote(file)} -i support.key -d ${quote(`${bundle.ticket}-${bundle.id}`)}`;
}

function linkState(l: Link): "revoked" | "expired" | "active" {
  if (l.revoked) return "revoked";
  if (Date.parse(l.expires_at) <= Date.now()) return "expired";
  return "active";
}

// A link's "Encrypted to" cell: "passphrase", or its keys' fingerprints
// (the full key on hover).
function recipientsOf(l: Link, prints: readonly string[]): HTMLElement | string {
  if (l.mode === "passphrase") return t("links.to_passphrase");
  if (prints.length === 0) return "—";
  return h("ul", { class: "fingerprints" }, ...prints.map((fp, i) => h("li", {}, h("code", { title: l.recipients?.[i] ?? "" }, fp))));
}

function table(caption: string, headers: string[], rows: HTMLElement[]): HTMLElement {
  return h("div", { class: "table-wrap" }, listTable(caption, headers, rows));
}

// Date from <input type=datetime-local> (local time) as RFC 3339 UTC.
function rfc3339(local: string): string | undefined {
  if (!local) return undefined;
  return new Date(local).toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function ticketView(ref: string): View {
  const base = `/tickets/${encodeURIComponent(ref)}`;
  let ticket: Ticket | null = null;
  let bundles: Bundle[] = [];
  let links: Link[] = [];
  let uploads: Upload[] = [];
  let agents: Agent[] = [];
  let uploadTimer: number | undefined;
  let disposed = false;

  const heading = h("h1", {}, ref);
  const summary = h("div", { class: "summary" });
  const actions = h("div", { class: "actions" });
  const problem = message("alert");
  const receipt = h("div", { class: "receipt-area" });
  const bundlesBox = h("div");
  const uploadsBox = h("div");
  const linksBox = h("div");
  const newLinkBox = h("div");
  const requestsBox = h("div");
  const requestForm = h("div");
  const timelineBox = h("div");

  // --- data -------------------------------------------------------------
  async function loadTicket(): Promise<void> {
    ticket = await api<Ticket>(base);
    replaceChildren(heading, `${ticket.ref} — ${ticket.title}`);
    replaceChildren(
      summary,
      stateBadge(ticket.status, t(`status.${ticket.status}`)),
      " ",
      stateBadge(ticket.severity, severityText(ticket.severity)),
      " ",
      h("span", {}, t("ticket.created"), " ", when(ticket.created_at)),
      ticket.resolved_at ? h("span", {}, " · ", t("ticket.resolved"), " ", when(ticket.resolved_at)) : null,
      ticket.connector ? h("span", { class: "connector" }, " · ", t("ticket.helpdesk"), " ", ticket.connector) : null,
      deadlines(ticket),
      ticket.resolution ? h("p", { class: "resolution" }, t("ticket.resolution"), " ", h("span", { class: "resolution-text" }, ticket.resolution)) : null,
    );
    const open = ticket.status === "open";
    const button = h("button", { type: "button", class: open ? "danger" : "" }, open ? t("ticket.resolve") : t("ticket.reopen"));
    button.addEventListener("click", open ? resolve : reopen);
    const clock = open ? h("button", { type: "button" }, ticket.pending ? t("ticket.resume") : t("ticket.set_pending")) : null;
    clock?.addEventListener("click", () => void setClock(ticket?.pending ? "resume" : "pending"));
    replaceChildren(actions, button, clock ? " " : null, clock);
    for (const form of [linkForm, requestFormElement]) form.hidden = !open;
  }

  async function loadBundles(): Promise<void> {
    bundles = await api<Bundle[]>(`${base}/bundles`);
    if (bundles.length === 0) {
      replaceChildren(bundlesBox, h("p", {}, t("bundles.none")));
      return;
    }
    replaceChildren(
      bundlesBox,
      h("p", { class: "hint" }, t("bundles.explain")),
      table(
        t("bundles.title"),
        [t("bundles.file"), t("bundles.size"), t("bundles.source"), t("bundles.received"), t("bundles.actions")],
        bundles.map((bundle) => {
          const remove = h("button", { type: "button", class: "danger", "aria-label": t("bundles.delete_named", { name: bundle.filename }) }, t("action.delete"));
          remove.addEventListener("click", () => deleteBundle(bundle));
          return h(
            "tr",
            { "data-bundle": bundle.id },
            cell(t("bundles.file"), h("span", { class: "filename" }, bundle.filename), h("br"), h("code", { class: "sha", title: bundle.sha256 }, `SHA-256 ${bundle.sha256.slice(0, 16)}…`)),
            cell(t("bundles.size"), size(bundle.size)),
            cell(t("bundles.source"), bundle.source),
            cell(t("bundles.received"), when(bundle.created_at)),
            cell(
              t("bundles.actions"),
              h("a", { href: `/api/v1/bundles/${encodeURIComponent(bundle.id)}/content`, download: bundle.filename, class: "button", "aria-label": t("bundles.download_named", { name: bundle.filename }) }, t("bundles.download")),
              " ",
              remove,
              copyable(t("bundles.command"), openCommand(bundle)),
            ),
          );
        }),
      ),
    );
  }

  async function loadUploads(): Promise<void> {
    uploads = await api<Upload[]>(`${base}/uploads`);
    if (uploads.length === 0) {
      replaceChildren(uploadsBox, h("p", {}, t("uploads.none")));
    } else {
      replaceChildren(
        uploadsBox,
        h(
          "ul",
          { class: "uploads" },
          ...uploads.map((upload) => {
            const label = t("uploads.progress_named", { name: upload.filename || upload.id });
            const progress = upload.length
              ? h("progress", { max: upload.length, value: upload.offset, "aria-label": label })
              : h("progress", { "aria-label": label });
            const amount = upload.length
              ? t("uploads.amount", { done: size(upload.offset), total: size(upload.length), percent: Math.floor((upload.offset / upload.length) * 100) })
              : t("uploads.amount_unknown", { done: size(upload.offset) });
            return h("li", { "data-upload": upload.id }, h("span", { class: "filename" }, upload.filename || upload.id), " ", progress, " ", h("span", {}, amount), " ", h("small", {}, upload.source));
          }),
        ),
      );
    }
    // Poll each second while something is in flight; stop when nothing is.
    if (uploads.length && uploadTimer === undefined && !disposed) {
      uploadTimer = window.setInterval(() => {
        loadUploads().catch(() => undefined);
      }, 1000);
    } else if (!uploads.length && uploadTimer !== undefined) {
      window.clearInterval(uploadTimer);
      uploadTimer = undefined;
      void loadBundles().catch(() => undefined);
    }
  }

  async function loadLinks(): Promise<void> {
    links = await api<Link[]>(`${base}/links`);
    // Who can open what arrives through each link: the keys' fingerprints
    // (as the drop page shows them to the client), or the passphrase.
    const prints = await Promise.all(links.map((l) => Promise.all((l.recipients ?? []).map(keyFingerprint))));
    if (links.length === 0) {
      replaceChildren(linksBox, h("p", {}, t("links.none")));
      return;
    }
    replaceChildren(
      linksBox,
      table(
        t("links.title"),
        [t("links.id"), t("links.to"), t("links.expires"), t("links.used"), t("links.state"), t("bundles.actions")],
        links.map((l, i) => {
          const state = linkState(l);
          let revoke: HTMLElement | string = "";
          if (state === "active") {
            const button = h("button", { type: "button", class: "danger", "aria-label": t("links.revoke_named", { id: l.id }) }, t("links.revoke"));
            button.addEventListener("click", () => revokeLink(l));
            revoke = button;
          }
          return h(
            "tr",
            { "data-link": l.id },
            cell(t("links.id"), h("code", {}, l.id)),
            cell(t("links.to"), recipientsOf(l, prints[i] ?? [])),
            cell(t("links.expires"), when(l.expires_at)),
            cell(t("links.used"), t("links.used_of", { used: size(l.used_bytes), max: size(l.max_bytes) })),
            cell(t("links.state"), stateBadge(state, t(`links.state_${state}`))),
            cell(t("bundles.actions"), revoke),
          );
        }),
      ),
    );
  }

  async function loadRequests(): Promise<void> {
    const requests = await api<DiagnosticsRequest[]>(`${base}/requests`);
    const host = (id: string) => agents.find((a) => a.id === id)?.hostname ?? id;
    if (requests.length === 0) {
      replaceChildren(requestsBox, h("p", {}, t("requests.none")));
      return;
    }
    replaceChildren(
      requestsBox,
      table(
        t("requests.title"),
        [t("requests.profile"), t("requests.agent"), t("requests.window"), t("requests.state"), t("requests.updated")],
        requests.map((r) =>
          h(
            "tr",
            { "data-request": r.id },
            cell(t("requests.profile"), r.profile),
            cell(t("requests.agent"), link(paths.agent(r.agent), host(r.agent))),
            cell(t("requests.window"), r.since ? when(r.since) : t("requests.open_start"), " → ", r.until ? when(r.until) : t("requests.now")),
            cell(
              t("requests.state"),
              stateBadge(r.state, t(`state.${r.state}`)),
              r.error ? h("span", { class: "reason" }, " ", t("requests.reason", { reason: r.error })) : null,
            ),
            cell(t("requests.updated"), when(r.updated_at)),
          ),
        ),
      ),
    );
  }

  async function loadAgents(): Promise<void> {
    agents = await allAgents();
    const usable = agents.filter((a) => !a.revoked && a.profiles.length > 0 && Date.parse(a.cert_expires_at) > Date.now());
    const previous = agentSelect.value;
    replaceChildren(agentSelect, ...usable.map((a) => option(a.id, `${a.hostname} (${a.id})`, a.id === previous)));
    fillProfiles();
    requestFormElement.querySelector<HTMLElement>("fieldset")!.hidden = usable.length === 0;
    noAgent.hidden = usable.length > 0;
  }

  // The ticket's story from GET /tickets/{ref} (loadTicket's first page,
  // then the next ones), newest first.
  async function loadTimeline(): Promise<void> {
    const events = [...(ticket?.timeline ?? [])];
    let next = ticket?.timeline_next ?? null;
    for (let pages = 1; next !== null && pages < 50; pages++) {
      const page = await api<Ticket>(`${base}?timeline_after=${next}`);
      events.push(...(page.timeline ?? []));
      next = page.timeline_next ?? null;
    }
    replaceChildren(
      timelineBox,
      h(
        "ol",
        { class: "timeline" },
        ...events
          .slice()
          .reverse()
          .map((e) => h("li", { "data-kind": e.kind }, when(e.at), " ", h("span", { class: "sentence" }, auditSentence(eventRecord(e))))),
      ),
    );
  }

  async function refresh(): Promise<void> {
    try {
      await loadTicket();
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) {
        replaceChildren(element, h("h1", {}, t("ticket.not_found", { ref })), h("p", {}, link(paths.tickets(), t("nav.tickets"))));
        disposed = true;
        return;
      }
      problem.say(errorText(error));
      return;
    }
    const results = await Promise.allSettled([loadBundles(), loadUploads(), loadLinks(), loadRequests(), loadTimeline()]);
    const failed = results.find((r) => r.status === "rejected") as PromiseRejectedResult | undefined;
    problem.say(failed ? errorText(failed.reason) : "");
  }

  // --- actions ------------------------------------------------------------
  async function deleteBundle(bundle: Bundle): Promise<void> {
    const ok = await confirmDialog(
      t("bundles.delete_title"),
      [h("p", {}, t("bundles.delete_body", { name: bundle.filename, size: size(bundle.size) }))],
      t("action.delete"),
    );
    if (!ok) return;
    try {
      await api(`/bundles/${encodeURIComponent(bundle.id)}`, { method: "DELETE" });
      await refresh();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  async function revokeLink(l: Link): Promise<void> {
    const ok = await confirmDialog(t("links.revoke_title"), [h("p", {}, t("links.revoke_body", { id: l.id }))], t("links.revoke"));
    if (!ok) return;
    try {
      await api(`/links/${encodeURIComponent(l.id)}`, { method: "DELETE" });
      await refresh();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  // First response, due date and pending, each with its time.
  function deadlines(tk: Ticket): HTMLElement {
    return h(
      "p",
      { class: "deadlines" },
      h("span", {}, t("ticket.due"), " "),
      dueBadge(tk),
      tk.first_response_at
        ? h("span", {}, " · ", t("ticket.first_response"), " ", when(tk.first_response_at))
        : tk.response_due_at
          ? h("span", { class: tk.response_overdue ? "reason" : "" }, " · ", t("ticket.response_due"), " ", when(tk.response_due_at))
          : null,
      tk.pending && tk.pending_since ? h("span", { title: t("ticket.pending_hint") }, " · ", t("ticket.pending_since"), " ", when(tk.pending_since)) : null,
    );
  }

  async function setClock(action: "pending" | "resume"): Promise<void> {
    try {
      await api<Ticket>(`${base}/${action}`, { method: "POST" });
      await refresh();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  async function resolve(): Promise<void> {
    // What will be destroyed, read now rather than from the last refresh.
    let inFlight: Upload[];
    try {
      [bundles, inFlight, links] = await Promise.all([
        api<Bundle[]>(`${base}/bundles`),
        api<Upload[]>(`${base}/uploads`),
        api<Link[]>(`${base}/links`),
      ]);
    } catch (error) {
      problem.say(errorText(error));
      return;
    }
    const active = links.filter((l) => linkState(l) === "active");
    const resolution = h("textarea", { name: "resolution", rows: 3, maxlength: 16384 });
    const list = (title: string, items: string[]) =>
      h("section", {}, h("h3", {}, title), items.length ? h("ul", {}, ...items.map((item) => h("li", {}, item))) : h("p", {}, t("resolve.nothing")));
    const ok = await confirmDialog(
      t("resolve.title", { ref }),
      [
        h("p", {}, t("resolve.explain")),
        list(t("resolve.bundles", { n: bundles.length }), bundles.map((b) => `${b.filename} — ${size(b.size)}`)),
        list(t("resolve.uploads", { n: inFlight.length }), inFlight.map((u) => `${u.filename || u.id} — ${size(u.offset)}`)),
        list(t("resolve.links", { n: active.length }), active.map((l) => l.id)),
        field(t("resolve.resolution"), resolution, t("resolve.resolution_hint")),
      ],
      t("ticket.resolve"),
    );
    if (!ok) return;
    try {
      const body = resolution.value.trim() ? { resolution: resolution.value } : {};
      const answer = await api<ResolveAnswer>(`${base}/resolve`, { method: "POST", body });
      showReceipt(answer);
      await refresh();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  function showReceipt(answer: ResolveAnswer): void {
    const total = answer.purged.reduce((sum, p) => sum + p.size, 0);
    replaceChildren(
      receipt,
      h(
        "section",
        { class: "receipt", "aria-labelledby": "receipt-title" },
        h("h2", { id: "receipt-title" }, t("receipt.title")),
        h("p", { role: "status" }, t("receipt.summary", { n: answer.purged.length, size: size(total), uploads: answer.cancelled_uploads.length })),
        answer.purged.length
          ? table(
              t("receipt.title"),
              [t("receipt.id"), t("bundles.size"), "SHA-256"],
              answer.purged.map((p) => h("tr", {}, cell(t("receipt.id"), h("code", {}, p.id)), cell(t("bundles.size"), size(p.size)), cell("SHA-256", h("code", { class: "sha" }, p.sha256)))),
            )
          : null,
        answer.cancelled_uploads.length
          ? h("ul", {}, ...answer.cancelled_uploads.map((u) => h("li", {}, t("receipt.cancelled", { id: u.id, size: size(u.offset) }))))
          : null,
      ),
    );
    receipt.querySelector<HTMLElement>("h2")!.tabIndex = -1;
    receipt.querySelector<HTMLElement>("h2")!.focus();
  }

  async function reopen(): Promise<void> {
    try {
      await api(`${base}/reopen`, { method: "POST" });
      replaceChildren(receipt);
      await refresh();
    } catch (error) {
      problem.say(errorText(error));
    }
  }

  // --- new upload link ----------------------------------------------------
  const expires = h(
    "select",
    { name: "expires" },
    option("", t("links.expires_default"), true),
    option("3600", t("links.expires_hours", { n: 1 })),
    option("86400", t("links.expires_days", { n: 1 })),
    option("604800", t("links.expires_days", { n: 7 })),
    option("2592000", t("links.expires_days", { n: 30 })),
  );
  const budget = h("input", { type: "number", name: "budget", min: 1, step: 1, inputmode: "numeric" });
  const modeRecipients = h("input", { type: "radio", name: "mode", value: "recipients", checked: true, id: `mode-r-${ref}` });
  const modePassphrase = h("input", { type: "radio", name: "mode", value: "passphrase", id: `mode-p-${ref}` });
  const recipients = h("textarea", { name: "recipients", rows: 2, spellcheck: "false", autocomplete: "off" });
  const linkProblem = message("alert");
  const linkForm = h(
    "form",
    { class: "inline-form", "aria-labelledby": "new-link-title" },
    h("h3", { id: "new-link-title" }, t("links.create")),
    field(t("links.expires_label"), expires),
    field(t("links.budget"), budget, t("links.budget_hint")),
    h(
      "fieldset",
      {},
      h("legend", {}, t("links.mode")),
      h("div", { class: "radio" }, modeRecipients, h("label", { for: modeRecipients.id }, t("links.mode_recipients"))),
      h("div", { class: "radio" }, modePassphrase, h("label", { for: modePassphrase.id }, t("links.mode_passphrase"))),
    ),
    field(t("links.recipients"), recipients, t("links.recipients_hint")),
    h("button", { type: "submit", class: "primary" }, t("links.create_submit")),
    linkProblem,
  );
  const syncMode = () => {
    recipients.disabled = modePassphrase.checked;
  };
  modeRecipients.addEventListener("change", syncMode);
  modePassphrase.addEventListener("change", syncMode);
  linkForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body: Record<string, unknown> = { mode: modePassphrase.checked ? "passphrase" : "recipients" };
    if (expires.value) body.expires_in_s = Number(expires.value);
    if (budget.value) body.max_bytes = Math.round(Number(budget.value) * 1_000_000);
    const keys = recipients.value.split(/[\s,]+/).filter(Boolean);
    if (keys.length && !modePassphrase.checked) body.recipients = keys;
    linkProblem.say("");
    try {
      const created = await api<NewLink>(`${base}/links`, { method: "POST", body });
      const url = created.drop_url ?? `${location.origin}/drop#${created.token}`;
      replaceChildren(
        newLinkBox,
        h(
          "div",
          { class: "new-link", role: "group", "aria-label": t("links.new") },
          h("p", {}, t("links.new_explain", { expires: new Date(created.expires_at).toLocaleString() })),
          copyable(t("links.drop_url"), url, t("links.copy_url")),
        ),
      );
      linkForm.reset();
      syncMode();
      newLinkBox.querySelector<HTMLButtonElement>("button")?.focus();
      await loadLinks();
    } catch (error) {
      linkProblem.say(errorText(error));
    }
  });

  // --- new diagnostics request ---------------------------------------------
  const agentSelect = h("select", { name: "agent" });
  const profileSelect = h("select", { name: "profile" });
  const since = h("input", { type: "datetime-local", name: "since" });
  const until = h("input", { type: "datetime-local", name: "until" });
  const noAgent = h("p", { class: "hint" }, t("requests.no_agent"));
  const requestProblem = message("alert");
  function fillProfiles(): void {
    const agent = agents.find((a) => a.id === agentSelect.value);
    const previous = profileSelect.value;
    replaceChildren(profileSelect, ...(agent?.profiles ?? []).map((p) => option(p, p, p === previous)));
  }
  agentSelect.addEventListener("change", fillProfiles);
  const requestFormElement = h(
    "form",
    { class: "inline-form", "aria-labelledby": "new-request-title" },
    h("h3", { id: "new-request-title" }, t("requests.create")),
    noAgent,
    h(
      "fieldset",
      { class: "plain" },
      h("legend", { class: "visually-hidden" }, t("requests.create")),
      field(t("requests.agent"), agentSelect),
      field(t("requests.profile"), profileSelect),
      field(t("requests.since"), since, t("requests.since_hint")),
      field(t("requests.until"), until, t("requests.until_hint")),
      h("button", { type: "submit", class: "primary" }, t("requests.create_submit")),
    ),
    requestProblem,
  );
  requestFormElement.addEventListener("submit", async (event) => {
    event.preventDefault();
    requestProblem.say("");
    if (since.value && until.value && since.value > until.value) {
      requestProblem.say(t("requests.bad_window"));
      return;
    }
    try {
      await api(`${base}/requests`, {
        method: "POST",
        body: { agent: agentSelect.value, profile: profileSelect.value, since: rfc3339(since.value), until: rfc3339(until.value) },
      });
      await loadRequests();
    } catch (error) {
      requestProblem.say(errorText(error));
    }
  });
  replaceChildren(requestForm, requestFormElement);

  // --- comments -------------------------------------------------------------
  const commentText = h("textarea", { name: "comment", rows: 3, maxlength: 16384, required: true });
  const commentProblem = message("alert");
  const commentForm = h(
    "form",
    { class: "inline-form comment-form" },
    field(t("comments.label"), commentText, t("comments.hint")),
    h("button", { type: "submit", class: "primary" }, t("comments.submit")),
    commentProblem,
  );
  commentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    commentProblem.say("");
    try {
      await api(`${base}/comments`, { method: "POST", body: { text: commentText.value } });
      commentForm.reset();
      await refresh();
    } catch (error) {
      commentProblem.say(errorText(error));
    }
  });

  const section = (id: string, title: string, ...content: Node[]) =>
    h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), ...content);

  const element = h(
    "article",
    { class: "ticket" },
    h("p", { class: "crumbs" }, link(paths.tickets(), t("nav.tickets"))),
    h("div", { class: "title-row" }, heading, actions),
    summary,
    problem,
    receipt,
    section("bundles-title", t("bundles.title"), bundlesBox),
    section("uploads-title", t("uploads.title"), uploadsBox),
    section("links-title", t("links.title"), linksBox, newLinkBox, linkForm),
    section("requests-title", t("requests.title"), requestsBox, requestForm),
    section("timeline-title", t("timeline.title"), commentForm, timelineBox),
  );

  void refresh();
  void loadAgents().catch(() => undefined);
  return {
    element,
    title: ref,
    onEvents: (events) => {
      if (disposed) return;
      if (events.some((event) => event.ticket === ref)) void refresh();
      if (events.some((event) => event.action.startsWith("agent."))) void loadAgents().catch(() => undefined);
    },
    dispose: () => {
      disposed = true;
      if (uploadTimer !== undefined) window.clearInterval(uploadTimer);
    },
  };
}
