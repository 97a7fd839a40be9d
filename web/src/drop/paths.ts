// Archive paths for the files a client picked: relative, "/"-separated, no
// empty, "." or ".." parts (what `valise open` accepts: common/src/
// bundle_errors.cpp), never `manifest.json` or under it, and each unique. A
// name that would clash (the same name picked twice from two folders, or a
// file named like a folder) gets " (2)", " (3)", ... before its extension,
// as file managers do. Pure, so it is tested without a browser.

export const MANIFEST = "manifest.json";
const MAX_PATH_BYTES = 4096;
const encoder = new TextEncoder();

export function normalise(path: string): string {
  const parts = path
    .replace(/\\/g, "/")
    .split("/")
    .filter((part) => part !== "" && part !== ".")
    .map((part) => (part === ".." ? "_.." : part.replace(/\0/g, "_")));
  let result = parts.length ? parts.join("/") : "unnamed";
  // Over the reader's limit: keep the end, which names the file.
  while (encoder.encode(result).length > MAX_PATH_BYTES && result.includes("/")) {
    result = result.slice(result.indexOf("/") + 1);
  }
  return result;
}

// "report.tar.gz", 2 → "report (2).tar.gz"; "README", 2 → "README (2)".
export function variant(name: string, n: number): string {
  const dot = name.indexOf(".", 1);
  return dot < 0 ? `${name} (${n})` : `${name.slice(0, dot)} (${n})${name.slice(dot)}`;
}

function withLast(path: string, last: string): string {
  const slash = path.lastIndexOf("/");
  return slash < 0 ? last : `${path.slice(0, slash + 1)}${last}`;
}

export interface Placed {
  files: string[]; // the archive path of each input, in input order
  directories: string[]; // every folder, parents first
}

// `files`: the paths the browser gave (webkitRelativePath, a dropped entry's
// fullPath, or the bare name); `emptyDirectories`: folders dropped with
// nothing in them, kept so the bundle shows them.
export function place(files: readonly string[], emptyDirectories: readonly string[] = []): Placed {
  const wanted = files.map((file) => {
    const path = normalise(file);
    const first = path.split("/")[0] ?? path;
    return first === MANIFEST ? variant(MANIFEST, 2) + path.slice(first.length) : path;
  });
  const directories = new Set<string>();
  const addParents = (path: string, self: boolean) => {
    const parts = path.split("/");
    for (let i = 1; i < parts.length + (self ? 1 : 0); i++) directories.add(parts.slice(0, i).join("/"));
  };
  for (const path of wanted) addParents(path, false);
  for (const dir of emptyDirectories) {
    const path = normalise(dir);
    if ((path.split("/")[0] ?? path) !== MANIFEST) addParents(path, true);
  }
  const taken = new Set<string>(directories);
  const placed = wanted.map((path) => {
    let candidate = path;
    const last = path.slice(path.lastIndexOf("/") + 1);
    for (let n = 2; taken.has(candidate); n++) candidate = withLast(path, variant(last, n));
    taken.add(candidate);
    return candidate;
  });
  return { files: placed, directories: [...directories].sort() };
}
