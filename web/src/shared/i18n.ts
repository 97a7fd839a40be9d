// English and French, chosen from the browser's languages. Each page passes
// its own catalogue; a key missing in French falls back to English.

export type Language = "en" | "fr";
export type Catalogue = Record<string, string>;

export function pickLanguage(languages: readonly string[] = navigator.languages): Language {
  for (const tag of languages) {
    const primary = tag.toLowerCase().split("-")[0];
    if (primary === "fr") return "fr";
    if (primary === "en") return "en";
  }
  return "en";
}

// translator({en, fr}, "fr")("sent", {size: "2 MB"}) fills {size} placeholders.
export function translator(catalogues: Record<Language, Catalogue>, language: Language) {
  return (key: string, values: Record<string, string | number> = {}): string => {
    const text = catalogues[language][key] ?? catalogues.en[key] ?? key;
    return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
      name in values ? String(values[name]) : whole,
    );
  };
}

// Sizes as people read them, in the page's language (1 kB = 1000 B, as file
// managers show them).
export function formatBytes(bytes: number, language: Language): string {
  const units = language === "fr" ? ["o", "ko", "Mo", "Go", "To"] : ["B", "kB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  const digits = unit === 0 || value >= 100 ? 0 : 1;
  return `${value.toLocaleString(language, { maximumFractionDigits: digits })} ${units[unit]}`;
}
