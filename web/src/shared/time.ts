// Times as people read them: "3 minutes ago" in the page's language, with the
// exact time in a tooltip and in <time datetime> for tools and screen readers.
import type { Language } from "./i18n";
import { h } from "./dom";

const units: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 86400],
  ["month", 30 * 86400],
  ["week", 7 * 86400],
  ["day", 86400],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

export function relativeTime(iso: string, language: Language, now = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const format = new Intl.RelativeTimeFormat(language, { numeric: "auto" });
  if (Math.abs(seconds) < 45) return format.format(0, "second");
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return format.format(Math.round(seconds / size), unit);
  }
  return format.format(seconds, "second");
}

export function absoluteTime(iso: string, language: Language): string {
  return new Date(iso).toLocaleString(language, { dateStyle: "medium", timeStyle: "medium" });
}

// <time datetime="2026-12-07T10:00:00Z" title="7 Dec 2026, 11:00:00">2 hours ago</time>
export function timeElement(iso: string | null | undefined, language: Language, empty = "—"): HTMLElement {
  if (!iso) return h("span", {}, empty);
  return h("time", { datetime: iso, title: absoluteTime(iso, language) }, relativeTime(iso, language));
}
