// The drop page's worker: files → tar → zstd → age (filled in by the drop page work).
export {};
