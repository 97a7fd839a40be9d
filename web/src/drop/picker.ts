// What the client adds: files from the file picker, a folder from the folder
// picker (webkitdirectory), or files and folders dropped on the page
// (DataTransferItem.webkitGetAsEntry, walked recursively).

export interface Picked {
  file: File;
  source: string; // the path the browser gives: "folder/sub/name.log" or "name.log"
}

export interface PickedSet {
  files: Picked[];
  emptyDirectories: string[];
}

export function fromInput(input: HTMLInputElement): PickedSet {
  const files = [...(input.files ?? [])].map((file) => ({ file, source: file.webkitRelativePath || file.name }));
  return { files, emptyDirectories: [] };
}

function readAllEntries(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries answers in batches (100 in Chromium) until an empty one.
  return new Promise((resolve, reject) => {
    const all: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: PickedSet): Promise<void> {
  const path = entry.fullPath.replace(/^\/+/, "");
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.files.push({ file, source: path || file.name });
  } else if (entry.isDirectory) {
    const children = await readAllEntries((entry as FileSystemDirectoryEntry).createReader());
    if (children.length === 0) out.emptyDirectories.push(path);
    for (const child of children) await walk(child, out);
  }
}

// Must be called during the drop event: the entries are only valid then.
export function fromDrop(transfer: DataTransfer): Promise<PickedSet> {
  const entries: FileSystemEntry[] = [];
  const loose: File[] = [];
  for (const item of [...transfer.items]) {
    if (item.kind !== "file") continue;
    const entry = item.webkitGetAsEntry?.();
    if (entry) entries.push(entry);
    else {
      const file = item.getAsFile();
      if (file) loose.push(file);
    }
  }
  return (async () => {
    const out: PickedSet = { files: loose.map((file) => ({ file, source: file.name })), emptyDirectories: [] };
    for (const entry of entries) await walk(entry, out);
    return out;
  })();
}
