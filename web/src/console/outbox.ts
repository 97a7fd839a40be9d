// A notice above every view while deliveries to webhooks or helpdesks have
// failed for good: where, for which ticket, why, each with a retry. It is
// read at start and again when the events long-poll brings an outbox.*
// record (a delivery given up, retried or made). docs/web.md, "Console".
import { h, replaceChildren } from "../shared/dom";
import type { AuditEvent } from "./events";
import { link, paths } from "./router";
import { api } from "./session";
import { t } from "./strings";
import { errorText, message } from "./ui";

interface Delivery {
  id: string;
  target: string;
  ticket: string;
  event: string;
  state: "pending" | "failed" | "delivered";
  attempts: number;
  last_error: string;
}

export interface OutboxNotice {
  element: HTMLElement;
  refresh(): Promise<void>;
  onEvents(events: AuditEvent[]): void;
}

export function outboxNotice(): OutboxNotice {
  const list = h("ul", {});
  const heading = h("h2", {});
  const problem = message("alert");
  const element = h("section", { class: "outbox-notice", role: "region", "aria-label": t("outbox.label"), hidden: true }, heading, list, problem);

  async function retry(delivery: Delivery, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      await api(`/outbox/${encodeURIComponent(delivery.id)}/retry`, { method: "POST" });
      problem.say("");
      await refresh();
    } catch (error) {
      button.disabled = false;
      problem.say(errorText(error));
    }
  }

  async function refresh(): Promise<void> {
    let failed: Delivery[];
    try {
      failed = (await api<Delivery[]>("/outbox")).filter((d) => d.state === "failed");
    } catch {
      return; // what is shown stays; the next event tries again
    }
    element.hidden = failed.length === 0;
    heading.textContent = t("outbox.failed", { n: String(failed.length) });
    replaceChildren(
      list,
      ...failed.map((d) => {
        const button = h("button", { type: "button" }, t("outbox.retry"));
        button.addEventListener("click", () => void retry(d, button));
        return h(
          "li",
          {},
          t("outbox.entry", { event: d.event, target: d.target }),
          " ",
          link(paths.ticket(d.ticket), d.ticket),
          ": ",
          d.last_error || "—",
          " ",
          button,
        );
      }),
    );
  }

  return {
    element,
    refresh,
    onEvents(events) {
      if (events.some((e) => e.action.startsWith("outbox."))) void refresh();
    },
  };
}
