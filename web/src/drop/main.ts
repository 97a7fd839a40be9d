// The client drop page (docs/web.md): shows what the link sends to, lets the
// client pick files and folders, and hands them to the pipeline worker,
// which encrypts and uploads them; ends with a receipt.
import { ApiError } from "../shared/api";
import { h, replaceChildren } from "../shared/dom";
import { formatBytes, pickLanguage, translator } from "../shared/i18n";
import { fetchLink, remainingBytes, takeToken, type LinkInfo } from "./link";
import { generatePassphrase } from "./passphrase";
import { place } from "./paths";
import { fromDrop, fromInput, type Picked, type PickedSet } from "./picker";
import type { StartMessage, Tuning, WorkerMessage } from "./protocol";
import { catalogues } from "./strings";
import { formatDuration, Speedometer } from "./speed";

declare const __DROP_WORKER_URL__: string;

const language = pickLanguage();
const t = translator(catalogues, language);
const size = (bytes: number) => formatBytes(bytes, language);
document.documentElement.lang = language;
document.title = t("title");

const app = document.getElementById("app")!;
const token = takeToken(); // in memory only, never stored
let link: LinkInfo | undefined;
let passphrase: string | undefined;
let picked: Picked[] = [];
let emptyDirectories: string[] = [];
let worker: Worker | undefined;

function page(...children: (Node | string | null | false)[]): void {
  replaceChildren(app, h("h1", {}, t("title")), ...children);
}

function errorSentence(code: string, message = ""): string {
  const known = ["link_expired", "link_revoked", "ticket_resolved", "unauthorized", "no_token", "network",
    "budget_exceeded", "too_large", "storage_full"];
  if (known.includes(code)) return t(code);
  if (code === "forbidden" || code === "not_found") return t("unauthorized");
  if (code === "pipeline") return t("failed", { message });
  return t("unknownError", { code });
}

function refusal(code: string): void {
  page(h("p", { class: "refusal", role: "alert" }, errorSentence(code)));
}

// ---- the link and the files ----

function linkSummary(info: LinkInfo): Node {
  const remaining = Math.max(0, info.max_bytes - info.used_bytes);
  const expires = new Date(info.expires_at).toLocaleString(language, { dateStyle: "long", timeStyle: "short" });
  return h(
    "section",
    { class: "link", "aria-labelledby": "ticket-heading" },
    h("h2", { id: "ticket-heading" }, t("ticket", { ref: info.ticket.ref, title: info.ticket.title })),
    h("p", {}, t("budget", { remaining: size(remaining), max: size(info.max_bytes) })),
    h("p", {}, t("expires", { date: expires })),
  );
}

function keysPanel(info: LinkInfo): Node {
  if (info.mode === "passphrase" && passphrase) {
    const copyButton = h("button", { type: "button", class: "secondary" }, t("copy"));
    copyButton.addEventListener("click", () => {
      void navigator.clipboard?.writeText(passphrase ?? "").then(() => {
        copyButton.textContent = t("copied");
      });
    });
    return h(
      "section",
      { class: "keys passphrase", "aria-labelledby": "passphrase-heading" },
      h("h2", { id: "passphrase-heading" }, t("passphraseHeading")),
      h("p", {}, t("passphraseMode")),
      h("p", { class: "secret" }, h("code", {}, passphrase)),
      copyButton,
      h("p", { class: "warning" }, t("passphraseTell")),
    );
  }
  return h(
    "section",
    { class: "keys", "aria-labelledby": "keys-heading" },
    h("h2", { id: "keys-heading" }, t("recipientsHeading")),
    h("p", { class: "muted" }, t("recipientsNote")),
    h("ul", { class: "fingerprints" }, ...info.recipients.map((r) => h("li", {}, h("code", {}, r.fingerprint)))),
  );
}

function statements(): Node {
  return h(
    "section",
    { class: "statements" },
    h("p", {}, t("encryptedHere")),
    h("p", {}, t("noRedaction")),
  );
}

function addPicked(set: PickedSet): void {
  const seen = new Set(picked.map((p) => `${p.source}\0${p.file.size}\0${p.file.lastModified}`));
  for (const p of set.files) {
    const key = `${p.source}\0${p.file.size}\0${p.file.lastModified}`;
    if (!seen.has(key)) {
      seen.add(key);
      picked.push(p);
    }
  }
  emptyDirectories = [...new Set([...emptyDirectories, ...set.emptyDirectories])];
  showFiles();
}

function fileInput(label: string, id: string, folder: boolean): Node {
  const input = h("input", { type: "file", id, class: "visually-hidden", multiple: true, webkitdirectory: folder });
  input.addEventListener("change", () => {
    addPicked(fromInput(input));
    input.value = "";
  });
  return h("span", { class: "picker" }, input, h("label", { for: id, class: "button secondary" }, label));
}

function dropZone(): HTMLElement {
  const zone = h(
    "div",
    { class: "dropzone", role: "group", "aria-label": t("dropZone") },
    h("p", {}, t("dropZone")),
    h("div", { class: "pickers" }, fileInput(t("addFiles"), "add-files", false), fileInput(t("addFolder"), "add-folder", true)),
    h("p", { class: "muted" }, t("dropHint")),
  );
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    zone.classList.remove("over");
    if (event.dataTransfer) void fromDrop(event.dataTransfer).then(addPicked);
  });
  return zone;
}

function totalBytes(): number {
  return picked.reduce((sum, p) => sum + p.file.size, 0);
}

function fileList(): Node {
  if (picked.length === 0) return h("p", { class: "muted", id: "file-list" }, t("empty"));
  return h(
    "ul",
    { class: "files", id: "file-list", "aria-label": t("listLabel") },
    ...picked.map((p, index) => {
      const remove = h("button", { type: "button", class: "remove", "aria-label": t("remove", { name: p.source }) }, "×");
      remove.addEventListener("click", () => {
        picked.splice(index, 1);
        showFiles();
        (document.querySelector<HTMLElement>(".files .remove") ?? document.getElementById("add-files"))?.focus();
      });
      return h("li", {}, h("span", { class: "name" }, p.source), h("span", { class: "size" }, size(p.file.size)), remove);
    }),
  );
}

function showFiles(): void {
  if (!link) return;
  const total = totalBytes();
  const remaining = remainingBytes(link);
  const over = total > remaining;
  const send = h("button", { type: "button", class: "primary", disabled: picked.length === 0 || over }, t("send"));
  send.addEventListener("click", () => startSending());
  page(
    linkSummary(link),
    statements(),
    keysPanel(link),
    dropZone(),
    h("h2", {}, t("listLabel")),
    fileList(),
    picked.length
      ? h("p", { class: "total" }, picked.length === 1 ? t("totalOne", { size: size(total) }) : t("total", { count: picked.length, size: size(total) }))
      : null,
    over ? h("p", { class: "refusal", role: "alert" }, t("overBudget", { size: size(total), remaining: size(remaining) })) : null,
    h("div", { class: "actions" }, send),
  );
}

// ---- sending ----

function dateStamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}Z$/, "Z");
}

// Test and benchmark knobs, from the page's query string (?level=3&helpers=2).
function tuning(): Partial<Tuning> {
  const params = new URLSearchParams(location.search);
  const out: Partial<Tuning> = {};
  for (const key of ["level", "frameSize", "helpers", "chunkSize", "stage", "hashWorker"] as const) {
    const value = params.get(key);
    if (value !== null && Number.isFinite(Number(value))) out[key] = Number(value);
  }
  return out;
}

function startSending(): void {
  if (!link || picked.length === 0) return;
  const info = link;
  const placed = place(picked.map((p) => p.source), emptyDirectories);
  const message: StartMessage = {
    type: "start",
    files: picked.map((p, i) => ({ file: p.file, path: placed.files[i] ?? p.source, source: p.source })),
    directories: placed.directories,
    token,
    // Always this origin (the CSP's connect-src allows no other): the
    // server's public URL may name another host or port than the one the
    // client reached it by.
    uploadUrl: new URL(new URL(info.upload_url, location.href).pathname, location.origin).href,
    ticket: info.ticket.ref,
    host: "",
    filename: `${info.ticket.ref}-${dateStamp(new Date())}.vls`,
    tuning: tuning(),
  };
  if (info.mode === "passphrase") message.passphrase = passphrase;
  else message.recipients = info.recipients.map((r) => r.key);

  const total = totalBytes();
  const bar = h("div", {
    class: "bar",
    role: "progressbar",
    "aria-label": t("progressLabel"),
    "aria-valuemin": 0,
    "aria-valuemax": 100,
    "aria-valuenow": 0,
  }, h("div", { class: "fill" }));
  const counts = h("p", { class: "counts" }, t("progressText", { done: size(0), total: size(total), sent: size(0) }));
  const rate = h("p", { class: "rate muted" }, "\u00a0");
  const cancel = h("button", { type: "button", class: "secondary" }, t("cancel"));
  page(linkSummary(info), h("section", { class: "sending" }, h("h2", {}, t("sending")), bar, counts, rate), h("div", { class: "actions" }, cancel));
  cancel.focus();

  const speed = new Speedometer();
  let last = { read: 0, sent: 0, at: performance.now() };
  const stall = setInterval(() => {
    if (performance.now() - last.at > 3000) rate.textContent = t("waiting");
  }, 1000);

  worker = new Worker(__DROP_WORKER_URL__, { type: "module", name: "drop" });
  const finish = () => {
    clearInterval(stall);
    worker?.terminate();
    worker = undefined;
  };
  cancel.addEventListener("click", () => {
    cancel.disabled = true;
    worker?.postMessage({ type: "cancel" });
  });
  worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
    const m = event.data;
    if (m.type === "progress") {
      if (m.read !== last.read || m.sent !== last.sent) last = { read: m.read, sent: m.sent, at: performance.now() };
      const percent = total > 0 ? Math.min(100, Math.floor((m.read / total) * 100)) : 100;
      bar.setAttribute("aria-valuenow", String(percent));
      bar.setAttribute("aria-valuetext", `${percent}%`);
      (bar.firstElementChild as HTMLElement).style.width = `${percent}%`;
      counts.textContent = t("progressText", { done: size(m.read), total: size(total), sent: size(m.sent) });
      const perSecond = speed.add(m.read);
      if (perSecond > 0) {
        rate.textContent = t("speed", { speed: size(perSecond), left: formatDuration((total - m.read) / perSecond) });
      }
    } else if (m.type === "done") {
      finish();
      showReceipt(info, m);
    } else if (m.type === "failed") {
      finish();
      showFailure(errorSentence(m.code, m.message));
    } else if (m.type === "cancelled") {
      finish();
      showFailure(t("cancelled"));
    }
  };
  worker.onerror = (event) => {
    finish();
    showFailure(t("failed", { message: event.message || "worker" }));
  };
  worker.postMessage(message);
}

function showFailure(sentence: string): void {
  const back = h("button", { type: "button", class: "secondary" }, t("again"));
  back.addEventListener("click", () => void refreshLink().then(showFiles));
  page(link ? linkSummary(link) : null, h("p", { class: "refusal", role: "alert" }, sentence), h("div", { class: "actions" }, back));
  back.focus();
}

function showReceipt(info: LinkInfo, m: Extract<WorkerMessage, { type: "done" }>): void {
  const check = !m.serverSha256 ? t("shaMissing") : m.serverSha256 === m.sha256 ? t("shaMatches") : t("shaDiffers");
  const row = (term: string, value: Node | string) => [h("dt", {}, term), h("dd", {}, value)];
  const more = h("button", { type: "button", class: "secondary" }, t("sendMore"));
  more.addEventListener("click", () => {
    picked = [];
    emptyDirectories = [];
    void refreshLink().then(showFiles);
  });
  page(
    h(
      "section",
      { class: "receipt", "aria-labelledby": "receipt-heading" },
      h("h2", { id: "receipt-heading" }, t("receiptHeading")),
      h("p", {}, t("receiptIntro")),
      h(
        "dl",
        {},
        ...row(t("ticket", { ref: info.ticket.ref, title: "" }).replace(/\s*:\s*$/, ""), info.ticket.title),
        ...row(t("receiptBundle"), h("code", { "data-field": "bundle" }, m.serverBundleId || m.bundleId)),
        ...row(t("receiptSize"), h("span", { "data-field": "size", "data-bytes": m.size }, size(m.size))),
        ...row(t("receiptSha"), h("code", { "data-field": "sha256", class: "hash" }, m.serverSha256 || "—")),
        ...row(t("receiptCheck"), h("span", { "data-field": "check", class: m.serverSha256 === m.sha256 ? "ok" : "refusal" }, check)),
        ...row(
          t("receiptTime"),
          `${new Date().toLocaleString(language, { dateStyle: "long", timeStyle: "medium" })} (${t("receiptDuration", { seconds: m.seconds.toFixed(1) })})`,
        ),
      ),
      info.mode === "passphrase" ? h("p", { class: "warning" }, t("receiptPassphrase")) : null,
      statements(),
    ),
    h("div", { class: "actions" }, more),
  );
  passphrase = undefined; // shown once: gone with this view
}

async function refreshLink(): Promise<void> {
  try {
    link = await fetchLink(token);
  } catch {
    // keep what we had: the next send says what is wrong
  }
  if (link?.mode === "passphrase" && !passphrase) passphrase = generatePassphrase();
}

async function start(): Promise<void> {
  page(h("p", { "aria-busy": "true" }, t("loading")));
  if (!token) return refusal("no_token");
  try {
    link = await fetchLink(token);
  } catch (error) {
    return refusal(error instanceof ApiError ? error.code : "network");
  }
  if (link.mode === "passphrase") passphrase = generatePassphrase();
  showFiles();
}

void start();
