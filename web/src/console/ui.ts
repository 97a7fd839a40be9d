// Small pieces every view uses: labelled fields, confirmation dialogs
// (<dialog> with showModal, which traps focus and gives it back), copy
// buttons, times, sizes and the sentence for an error.
import { ApiError } from "../shared/api";
import { h } from "../shared/dom";
import { formatBytes } from "../shared/i18n";
import { timeElement } from "../shared/time";
import { language, t } from "./strings";

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

let fieldCounter = 0;

// <label for> + control, so tests and screen readers find it by its name.
export function field(label: string, control: Control, hint?: string): HTMLElement {
  control.id ||= `f${++fieldCounter}`;
  let hintElement: HTMLElement | null = null;
  if (hint) {
    hintElement = h("small", { id: `${control.id}-hint`, class: "hint" }, hint);
    control.setAttribute("aria-describedby", hintElement.id);
  }
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintElement);
}

export function option(value: string, text: string, selected = false): HTMLOptionElement {
  return h("option", { value, selected }, text);
}

export function when(iso: string | null | undefined): HTMLElement {
  return timeElement(iso, language);
}

export function size(bytes: number): string {
  return formatBytes(bytes, language);
}

// One sentence per error the console can meet, by the server's stable code.
export function errorText(error: unknown): string {
  if (!(error instanceof ApiError)) return t("error.unexpected");
  switch (error.code) {
    case "network":
      return t("error.network");
    case "csrf_failed":
      return t("error.csrf");
    case "too_many_failures":
      return t("error.throttled", { wait: waitText(error.retryAfter ?? 60) });
    case "ticket_exists":
      return t("error.ticket_exists");
    case "ticket_resolved":
      return t("error.ticket_resolved");
    case "ticket_open":
      return t("error.ticket_open");
    case "ticket_pending":
      return t("error.ticket_pending");
    case "ticket_not_pending":
      return t("error.ticket_not_pending");
    case "no_recipients":
      return t("error.no_recipients");
    case "agent_revoked":
      return t("error.agent_revoked");
    case "user_exists":
      return t("error.user_exists");
    case "busy":
      return t("error.busy");
  }
  if (error.status === 401) return t("error.expired");
  if (error.status === 403) return t("error.forbidden");
  if (error.status === 404) return t("error.not_found");
  return t("error.server", { message: error.message });
}

export function waitText(seconds: number): string {
  if (seconds < 90) return t("wait.seconds", { n: Math.ceil(seconds) });
  return t("wait.minutes", { n: Math.ceil(seconds / 60) });
}

// A line that says what happened: role=status for progress, role=alert for errors.
export function message(kind: "status" | "alert" = "status"): HTMLElement & { say(text: string): void } {
  const element = h("p", { role: kind, class: kind === "alert" ? "message error" : "message" });
  return Object.assign(element, {
    say(text: string) {
      element.textContent = text;
    },
  });
}

// A modal question; resolves true when confirmed. The dialog goes away
// afterwards and focus returns where it was.
export function confirmDialog(title: string, body: (Node | string)[], confirmLabel: string, danger = true): Promise<boolean> {
  return new Promise((resolve) => {
    const before = document.activeElement as HTMLElement | null;
    const titleId = `dialog-title-${++fieldCounter}`;
    const cancel = h("button", { type: "button", value: "cancel" }, t("action.cancel"));
    const confirm = h("button", { type: "submit", value: "confirm", class: danger ? "danger" : "primary" }, confirmLabel);
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId },
      h("form", { method: "dialog" }, h("h2", { id: titleId }, title), ...body, h("div", { class: "actions" }, cancel, confirm)),
    );
    cancel.addEventListener("click", () => dialog.close("cancel"));
    dialog.addEventListener("close", () => {
      const confirmed = dialog.returnValue === "confirm";
      dialog.remove();
      before?.focus();
      resolve(confirmed);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}

// A modal with a form of its own (set a password): resolves with the
// form's values, or null when cancelled.
export function formDialog(title: string, fields: HTMLElement[], submitLabel: string): Promise<FormData | null> {
  return new Promise((resolve) => {
    const before = document.activeElement as HTMLElement | null;
    const titleId = `dialog-title-${++fieldCounter}`;
    const cancel = h("button", { type: "button" }, t("action.cancel"));
    const form = h("form", { method: "dialog" }, h("h2", { id: titleId }, title), ...fields,
      h("div", { class: "actions" }, cancel, h("button", { type: "submit", value: "submit", class: "primary" }, submitLabel)));
    const dialog = h("dialog", { "aria-labelledby": titleId }, form);
    let values: FormData | null = null;
    form.addEventListener("submit", () => {
      values = new FormData(form);
    });
    cancel.addEventListener("click", () => dialog.close());
    dialog.addEventListener("close", () => {
      dialog.remove();
      before?.focus();
      resolve(values);
    });
    document.body.append(dialog);
    dialog.showModal();
    form.querySelector<HTMLElement>("input, select")?.focus();
  });
}

// A read-only text (a command, a URL) with a button that copies it.
export function copyable(label: string, text: string, buttonLabel = t("action.copy")): HTMLElement {
  const input = h("input", { type: "text", readonly: true, value: text, class: "copy-text" });
  const status = message();
  const button = h("button", { type: "button", "aria-label": `${buttonLabel}: ${label}` }, buttonLabel);
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      status.say(t("copy.done"));
    } catch {
      input.select();
      status.say(t("copy.failed"));
    }
  });
  return h("div", { class: "copyable" }, field(label, input), button, status);
}

// A list as a table: the caption for screen readers; each cell carries its
// column's name (data-label), which the phone layout shows.
export function listTable(caption: string, headers: string[], rows: HTMLElement[]): HTMLElement {
  return h(
    "table",
    { class: "list" },
    h("caption", { class: "visually-hidden" }, caption),
    h("thead", {}, h("tr", {}, ...headers.map((text) => h("th", { scope: "col" }, text)))),
    h("tbody", {}, ...rows),
  );
}

export function cell(label: string, ...content: (Node | string | null)[]): HTMLElement {
  return h("td", { "data-label": label }, ...content);
}

export function stateBadge(state: string, text: string): HTMLElement {
  return h("span", { class: `badge state-${state}` }, text);
}
