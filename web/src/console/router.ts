// Client-side routes under /console (the server answers console.html for
// every /console/ path, so a reload or a shared address opens the same view).
import { h } from "../shared/dom";

export type Route =
  | { name: "tickets" }
  | { name: "ticket"; ref: string }
  | { name: "agents" }
  | { name: "agent"; id: string }
  | { name: "users" }
  | { name: "not_found" };

export function parseRoute(pathname: string): Route {
  const parts = pathname.replace(/^\/console\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0 || (parts.length === 1 && parts[0] === "tickets")) return { name: "tickets" };
  if (parts.length === 2 && parts[0] === "tickets") return { name: "ticket", ref: parts[1]! };
  if (parts.length === 1 && parts[0] === "agents") return { name: "agents" };
  if (parts.length === 2 && parts[0] === "agents") return { name: "agent", id: parts[1]! };
  if (parts.length === 1 && parts[0] === "users") return { name: "users" };
  return { name: "not_found" };
}

export const paths = {
  tickets: () => "/console/tickets",
  ticket: (ref: string) => `/console/tickets/${encodeURIComponent(ref)}`,
  agents: () => "/console/agents",
  agent: (id: string) => `/console/agents/${encodeURIComponent(id)}`,
  users: () => "/console/users",
};

let listener: (() => void) | null = null;

export function onNavigate(handler: () => void): void {
  listener = handler;
  window.addEventListener("popstate", handler);
}

export function navigate(path: string, replace = false): void {
  if (replace) history.replaceState(null, "", path);
  else if (path !== location.pathname) history.pushState(null, "", path);
  listener?.();
}

// An <a> that changes view without loading the page (a modified click still
// opens a new tab, as links do).
export function link(href: string, ...children: (Node | string)[]): HTMLAnchorElement {
  const anchor = h("a", { href }, ...children);
  anchor.addEventListener("click", (event) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(href);
  });
  return anchor;
}
