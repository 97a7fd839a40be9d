// The console's session: the cookie is HttpOnly (the page never sees it);
// the CSRF value is kept in memory only, never in localStorage or
// sessionStorage, and fetched again with GET /session after a reload. Every
// call goes through api(), which adds X-Valise-CSRF to state-changing
// requests and turns a 401 into "your session has ended".
import { ApiError, call, type CallOptions } from "../shared/api";

export interface User {
  name: string;
  role: "technician" | "admin";
}

interface SessionAnswer {
  user: User;
  csrf: string;
  expires_at: string;
  idle_timeout_s: number;
}

let csrf: string | null = null;
let user: User | null = null;
let onExpired: (() => void) | null = null;

export function currentUser(): User | null {
  return user;
}

// Called once by main: what to do when any call answers 401.
export function whenExpired(handler: () => void): void {
  onExpired = handler;
}

function remember(answer: SessionAnswer): User {
  csrf = answer.csrf;
  user = answer.user;
  return answer.user;
}

function forget(): void {
  csrf = null;
  user = null;
}

const safeMethods = new Set(["GET", "HEAD", "OPTIONS"]);

export async function api<T>(path: string, options: CallOptions = {}): Promise<T> {
  const method = (options.method ?? "GET").toUpperCase();
  const headers = { ...options.headers };
  if (!safeMethods.has(method) && csrf) headers["X-Valise-CSRF"] = csrf;
  try {
    return await call<T>(path, { ...options, method, headers });
  } catch (error) {
    if (error instanceof ApiError && error.status === 401 && user) {
      forget();
      onExpired?.();
    }
    throw error;
  }
}

// The session the cookie holds, if any (after a reload).
export async function resume(): Promise<User | null> {
  try {
    return remember(await call<SessionAnswer>("/session"));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return null;
    throw error;
  }
}

export async function signIn(name: string, password: string): Promise<User> {
  return remember(await call<SessionAnswer>("/session", { method: "POST", body: { user: name, password } }));
}

// The page forgets the session only once the server has ended it (or says
// it had ended already): a sign-out that did not reach the server is an
// error to show, not a session silently left open behind a sign-in form.
export async function signOut(): Promise<void> {
  try {
    await call<void>("/session", { method: "DELETE", headers: csrf ? { "X-Valise-CSRF": csrf } : {} });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 401)) throw error;
  }
  forget();
}
