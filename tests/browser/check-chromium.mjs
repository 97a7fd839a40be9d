// Playwright cannot download its own browser here, so the tests drive
// Debian's /usr/bin/chromium. playwright-core speaks the DevTools protocol of
// the Chromium it was released with: a different major version may fail in
// odd ways, so the majors must match. Run directly, prints both and exits 1
// with what to do when they differ.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const chromiumPath = process.env.CHROMIUM ?? "/usr/bin/chromium";

export function checkChromium() {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve("playwright-core/package.json"));
  const { version: playwrightVersion } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  const bundled = JSON.parse(readFileSync(join(root, "browsers.json"), "utf8")).browsers.find(
    (b) => b.name === "chromium",
  ).browserVersion;
  let installed;
  try {
    installed = execFileSync(chromiumPath, ["--version"], { encoding: "utf8" }).trim();
  } catch {
    throw new Error(`${chromiumPath} does not run: install Debian's chromium (apt-get install chromium)`);
  }
  const installedMajor = installed.match(/(\d+)\./)?.[1];
  const bundledMajor = bundled.split(".")[0];
  if (installedMajor !== bundledMajor) {
    throw new Error(
      `${installed} at ${chromiumPath}, but playwright-core ${playwrightVersion} drives Chromium ${bundled}: ` +
        `pin in tests/browser/package.json the playwright-core release whose browsers.json names Chromium ` +
        `${installedMajor} (npm view playwright-core versions; check package/browsers.json)`,
    );
  }
  return { installed, playwrightVersion, bundled };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { installed, playwrightVersion, bundled } = checkChromium();
    console.log(`${installed}; playwright-core ${playwrightVersion} (Chromium ${bundled}): majors match`);
  } catch (error) {
    console.error(`error: ${error.message}`);
    process.exit(1);
  }
}
