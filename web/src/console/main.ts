// The technician console: sign-in, then a shell (navigation, the signed-in
// user, sign-out) around one view per route, kept current by the events
// long-poll. docs/web.md, "Console".
import { h, replaceChildren } from "../shared/dom";
import { followEvents } from "./events";
import { outboxNotice } from "./outbox";
import { link, onNavigate, parseRoute, paths, type Route } from "./router";
import { currentUser, resume, signOut, whenExpired } from "./session";
import { language, t } from "./strings";
import { errorText, message } from "./ui";
import type { View } from "./view";
import { agentView } from "./views/agent";
import { agentsView } from "./views/agents";
import { signInView } from "./views/signin";
import { ticketView } from "./views/ticket";
import { ticketsView } from "./views/tickets";
import { usersView } from "./views/users";

const app = document.getElementById("app")!;
document.documentElement.lang = language;

let current: View | null = null;
let stopEvents: (() => void) | null = null;
let main: HTMLElement | null = null;
let nav: HTMLElement | null = null;

function leaveView(): void {
  current?.dispose?.();
  current = null;
}

function showSignIn(reason?: string): void {
  stopEvents?.();
  stopEvents = null;
  leaveView();
  main = null;
  for (const dialog of document.querySelectorAll("dialog")) dialog.remove();
  document.title = `${t("signin.title")} — valise`;
  replaceChildren(app, signInView(reason, startApp));
}

function viewFor(route: Route): View {
  switch (route.name) {
    case "tickets":
      return ticketsView();
    case "ticket":
      return ticketView(route.ref);
    case "agents":
      return agentsView();
    case "agent":
      return agentView(route.id);
    case "users":
      if (currentUser()?.role === "admin") return usersView();
      break;
  }
  return {
    title: t("notfound.title"),
    element: h("section", {}, h("h1", {}, t("notfound.title")), h("p", {}, link(paths.tickets(), t("nav.tickets")))),
  };
}

function renderRoute(): void {
  if (!main || !nav) return;
  const route = parseRoute(location.pathname);
  leaveView();
  current = viewFor(route);
  document.title = `${current.title} — valise`;
  replaceChildren(main, current.element);
  const section = route.name === "ticket" ? "tickets" : route.name === "agent" ? "agents" : route.name;
  for (const anchor of nav.querySelectorAll("a")) {
    if (anchor.dataset.section === section) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  // Focus moves to the new view's heading, as a page load would.
  const heading = main.querySelector<HTMLElement>("h1");
  if (heading) {
    heading.tabIndex = -1;
    heading.focus();
  }
}

function navLink(section: string, href: string, text: string): HTMLElement {
  const anchor = link(href, text);
  anchor.dataset.section = section;
  return h("li", {}, anchor);
}

function startApp(): void {
  const user = currentUser();
  if (!user) return showSignIn();
  const signOutButton = h("button", { type: "button" }, t("nav.sign_out"));
  const problem = message("alert");
  signOutButton.addEventListener("click", async () => {
    try {
      await signOut();
      showSignIn(t("signin.signed_out"));
    } catch (error) {
      problem.say(errorText(error));
    }
  });
  nav = h(
    "nav",
    { "aria-label": t("nav.label") },
    h(
      "ul",
      {},
      navLink("tickets", paths.tickets(), t("nav.tickets")),
      navLink("agents", paths.agents(), t("nav.agents")),
      user.role === "admin" ? navLink("users", paths.users(), t("nav.users")) : null,
    ),
  );
  main = h("main", { id: "main" });
  const outbox = outboxNotice();
  replaceChildren(
    app,
    h(
      "header",
      { class: "top" },
      h("span", { class: "brand" }, "valise"),
      nav,
      h("span", { class: "who" }, t("nav.signed_in_as", { name: user.name })),
      signOutButton,
    ),
    problem,
    outbox.element,
    main,
  );
  if (location.pathname === "/console" || location.pathname === "/console/") history.replaceState(null, "", paths.tickets());
  stopEvents = followEvents((events) => {
    outbox.onEvents(events);
    current?.onEvents?.(events);
  });
  void outbox.refresh();
  renderRoute();
}

whenExpired(() => showSignIn(t("signin.expired")));
onNavigate(renderRoute);
resume().then(
  (user) => (user ? startApp() : showSignIn()),
  (error) => showSignIn(errorText(error)),
);
