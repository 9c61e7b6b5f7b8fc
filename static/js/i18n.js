// Translated strings in the browser: the templates embed a dict built with _() (<script id="i18n">), the
// modules look texts up by key and fill "{name}" placeholders. Pure: no DOM access.

/** "{name}" placeholders of `text` filled from `vars` (unknown names stay as they are). */
export function fill(text, vars) {
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** t("key", {name: value}) from the dict the template built with _(); a missing key shows as itself.
 * A [singular, plural] pair is chosen by vars.n ("und 1 weiterer Tisch" / "und 3 weitere Tische").
 * t.kind(kind) names a session kind from dict.kinds. */
export function makeT(dict) {
  const strings = dict || {};
  const pick = (text, vars) => (Array.isArray(text) ? text[vars && vars.n === 1 ? 0 : 1] : text);
  const t = (key, vars) => fill(pick(strings[key] ?? key, vars), vars);
  t.kind = (kind) => (strings.kinds && strings.kinds[kind]) || kind || "";
  return t;
}

/** The Intl locale of a page language: "en" → en-GB, everything else de-DE. */
export const localeOf = (lang) => (lang === "en" ? "en-GB" : "de-DE");

/** Numbers as the page's language writes them (1,5 / 1.5), at most one decimal. */
export const makeNumber = (lang) => new Intl.NumberFormat(localeOf(lang), { maximumFractionDigits: 1 });
