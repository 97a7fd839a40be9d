// Live updates: a long-poll on GET /events. The first call (no `after`)
// answers the head at once, so the page starts from now; each next one
// waits up to 25 s for records after the last it saw. Errors back off
// (1 s doubling to 30 s); a 401 ends the loop (the session is over).
import { ApiError } from "../shared/api";
import { api } from "./session";

export interface AuditEvent {
  seq: number;
  time: string;
  action: string;
  ticket: string;
  detail: Record<string, unknown>;
}

interface EventsAnswer {
  events: AuditEvent[];
  last: number;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

// Returns the function that stops the loop.
export function followEvents(onEvents: (events: AuditEvent[]) => void): () => void {
  const controller = new AbortController();
  const { signal } = controller;
  void (async () => {
    let after: number | undefined;
    let delay = 1000;
    while (!signal.aborted) {
      try {
        const query = after === undefined ? "" : `?after=${after}&wait=25`;
        const answer = await api<EventsAnswer>(`/events${query}`, { signal });
        after = answer.last;
        delay = 1000;
        if (answer.events.length) onEvents(answer.events);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status === 401) return;
        await sleep(delay, signal);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  })();
  return () => controller.abort();
}
