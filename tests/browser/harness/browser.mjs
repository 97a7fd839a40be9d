// Debian's Chromium under playwright-core, with the flags this machine
// needs (no sandbox as root, no GPU, nothing fetched in the background), and
// what every test watches: CSP violations, page errors, and every URL the
// page requests (no token may appear in one).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { checkChromium, chromiumPath } from "../check-chromium.mjs";

export async function launch() {
  checkChromium();
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

export const desktop = { width: 1280, height: 800 };
export const phone = { width: 390, height: 844 };

// A context trusting the test server (its certificate is from valise's own
// CA, which Chromium does not know), in one language and viewport.
export function newContext(browser, { locale = "en-US", viewport = desktop } = {}) {
  return browser.newContext({ ignoreHTTPSErrors: true, locale, viewport, acceptDownloads: true });
}

// Records what the page does that a test must be able to fail on.
export async function watch(page) {
  const seen = { cspViolations: [], pageErrors: [], requestUrls: [] };
  await page.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__cspViolations.push(`${event.violatedDirective}: ${event.blockedURI}`);
    });
  });
  page.on("pageerror", (error) => seen.pageErrors.push(String(error)));
  page.on("console", (message) => {
    if (message.type() === "error" && /Content Security Policy/i.test(message.text())) {
      seen.cspViolations.push(message.text());
    }
  });
  page.on("request", (request) => seen.requestUrls.push(request.url()));
  page.on("worker", (worker) => worker.on("console", () => {}));
  seen.collect = async () => {
    for (const frame of page.frames()) {
      try {
        seen.cspViolations.push(...(await frame.evaluate(() => window.__cspViolations ?? [])));
      } catch {
        // a frame gone since
      }
    }
    return seen;
  };
  return seen;
}

// Screenshots go to VALISE_ARTIFACTS (ctest sets build/.../test-artifacts/browser).
export async function screenshot(page, name) {
  const dir = process.env.VALISE_ARTIFACTS ?? "test-artifacts";
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}
