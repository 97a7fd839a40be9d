// Builds the browser pages into OUT (usage: node build.mjs --out DIR):
// OUT/drop.html, OUT/console.html and OUT/assets/NAME-HASH.{js,css,...}.
// Type-checks first (esbuild only strips types). Asset names carry a content
// hash, so valise-server can let browsers cache them for a year while the
// HTML, which names them, is never cached.
import * as esbuild from "esbuild";
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outFlag = process.argv.indexOf("--out");
if (outFlag < 0 || !process.argv[outFlag + 1]) {
  console.error("usage: node build.mjs --out DIR");
  process.exit(2);
}
const out = resolve(process.argv[outFlag + 1]);
const assets = join(out, "assets");

execFileSync(process.execPath, [join(here, "node_modules/typescript/bin/tsc"), "--noEmit", "-p", here], {
  stdio: "inherit",
});

rmSync(out, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  sourcemap: "linked",
  format: "esm",
  target: ["chrome110", "firefox115", "safari16"],
  outdir: assets,
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  loader: { ".wasm": "file" },
  metafile: true,
  logLevel: "warning",
  absWorkingDir: here,
};

// Output file (under assets/) of each entry point, by entry path.
function outputsByEntry(result) {
  const map = new Map();
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint) map.set(meta.entryPoint, basename(file));
  }
  return map;
}

// Workers first: the pages' scripts need their hashed URLs.
const workers = outputsByEntry(
  await esbuild.build({ ...common, entryPoints: { "drop-worker": "src/drop/worker.ts" } }),
);
const pages = outputsByEntry(
  await esbuild.build({
    ...common,
    entryPoints: {
      drop: "src/drop/main.ts",
      console: "src/console/main.ts",
      "drop-style": "styles/drop.css",
      "console-style": "styles/console.css",
    },
    define: { __DROP_WORKER_URL__: JSON.stringify(`/assets/${workers.get("src/drop/worker.ts")}`) },
  }),
);

// pages/NAME.html names its script and style as {{src/drop/main.ts}} etc.
for (const page of ["drop", "console"]) {
  const template = readFileSync(join(here, "pages", `${page}.html`), "utf8");
  const html = template.replace(/\{\{([^}]+)\}\}/g, (_, entry) => {
    const file = pages.get(entry);
    if (!file) throw new Error(`pages/${page}.html names ${entry}, which is not an entry point`);
    return `/assets/${file}`;
  });
  writeFileSync(join(out, `${page}.html`), html);
}
