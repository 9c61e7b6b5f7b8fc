// The arrivals dashboard (/staff/e/<slug>/checkin): checked-in / registered, a bar per municipality and the
// arrivals over time as an SVG chart drawn here (no chart library), kept live by the `stats` messages of
// the /live namespace; the latest scans are fetched again after each of them.
import { $, esc, pageLang, readJSON, setText } from "./dom.js";
import { makeT } from "./i18n.js";
import { followEvent } from "./live.js";
import { clockFormat } from "./time.js";

const config = readJSON("dash-config");
const strings = readJSON("i18n");
const t = makeT(strings);
const lang = pageLang();
const timeFormat = clockFormat(lang, config.timezone);
const secondsFormat = clockFormat(lang, config.timezone, { seconds: true });
const BUCKET_MS = 5 * 60000;

/** A horizontal bar as SVG (attributes only: the CSP allows no inline styles). */
function bar(value, total, cls = "") {
  const pct = total > 0 ? Math.min(100, (100 * value) / total) : 0;
  return `<svg class="bar ${cls}" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false">`
    + `<rect class="bar-all" x="0" y="0" width="100" height="10"></rect>`
    + `<rect class="bar-in" x="0" y="0" width="${pct.toFixed(2)}" height="10"></rect></svg>`;
}

function renderTotals(stats) {
  setText($("dash-count"), `${stats.checked_in} / ${stats.registered}`);
  setText($("dash-percent"), stats.registered ? `${Math.round((100 * stats.checked_in) / stats.registered)} %` : "");
  $("dash-bar").innerHTML = bar(stats.checked_in, stats.registered, "big");
}

function renderCities(stats) {
  const registered = stats.registered_by_city || {};
  const arrived = stats.by_city || {};
  const cities = [...new Set([...Object.keys(registered), ...Object.keys(arrived)])]
    .sort((a, b) => (registered[b] || 0) - (registered[a] || 0) || a.localeCompare(b, lang));
  $("cities").innerHTML = cities.length ? cities.map((city) => {
    const n = arrived[city] || 0;
    const of = registered[city] || 0;
    return `<tr data-city="${esc(city)}"><th scope="row">${esc(city === "–" ? t("other_towns") : city)}</th><td class="num">${n}</td><td class="num">${of}</td>`
      + `<td class="bar-col">${bar(n, of)}</td></tr>`;
  }).join("") : `<tr><td colspan="4">${esc(t("no_guests"))}</td></tr>`;
}

function niceStep(span, targetTicks) {
  const raw = span / targetTicks;
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) || raw;
}

/** Cumulative arrivals as a step line over the 5-minute buckets of stats.timeline. */
function renderTimeline(stats) {
  const box = $("timeline");
  const caption = $("timeline-caption");
  const points = (stats.timeline || []).map(([iso, n]) => [new Date(iso).getTime(), n]);
  if (!points.length) {
    box.innerHTML = "";
    setText(caption, t("none"));
    return;
  }
  const W = 640;
  const H = 240;
  const pad = { l: 44, r: 14, t: 14, b: 30 };
  const x0 = points[0][0];
  const x1 = Math.max(points[points.length - 1][0] + BUCKET_MS, x0 + 6 * BUCKET_MS);
  const top = Math.max(stats.registered, points[points.length - 1][1], 1);
  const x = (ms) => pad.l + ((ms - x0) / (x1 - x0)) * (W - pad.l - pad.r);
  const y = (n) => H - pad.b - (n / top) * (H - pad.t - pad.b);
  let d = `M${x(x0).toFixed(1)},${y(0).toFixed(1)}`;
  let prev = 0;
  for (const [at, n] of points) {
    d += ` L${x(at).toFixed(1)},${y(prev).toFixed(1)} L${x(at + BUCKET_MS).toFixed(1)},${y(n).toFixed(1)}`;
    prev = n;
  }
  d += ` L${x(x1).toFixed(1)},${y(prev).toFixed(1)}`;
  const area = `${d} L${x(x1).toFixed(1)},${y(0).toFixed(1)} Z`;

  let grid = "";
  const yStep = niceStep(top, 4);
  for (let v = 0; v <= top + 1e-9; v += yStep) {
    grid += `<line class="grid" x1="${pad.l}" x2="${W - pad.r}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}"></line>`
      + `<text class="tick" x="${pad.l - 6}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end">${Math.round(v)}</text>`;
  }
  const minutes = (x1 - x0) / 60000;
  const xStep = ([5, 10, 15, 30, 60, 120, 240].find((m) => minutes / m <= 7) || 480) * 60000;
  for (let at = Math.ceil(x0 / xStep) * xStep; at <= x1; at += xStep) {
    grid += `<line class="grid" x1="${x(at).toFixed(1)}" x2="${x(at).toFixed(1)}" y1="${pad.t}" y2="${H - pad.b}"></line>`
      + `<text class="tick" x="${x(at).toFixed(1)}" y="${H - pad.b + 18}" text-anchor="${x(at) > W - 30 ? "end" : "middle"}">`
      + `${esc(timeFormat.format(new Date(at)))}</text>`;
  }
  const registeredLine = stats.registered
    ? `<line class="target" x1="${pad.l}" x2="${W - pad.r}" y1="${y(stats.registered).toFixed(1)}" y2="${y(stats.registered).toFixed(1)}"></line>`
    : "";
  const last = points[points.length - 1];
  const label = t("caption", { n: stats.checked_in, total: stats.registered, time: timeFormat.format(new Date(last[0] + BUCKET_MS)) });
  box.innerHTML = `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${t("chart")}: ${label}`)}">`
    + `${grid}${registeredLine}<path class="area" d="${area}"></path><path class="line" d="${d}"></path></svg>`;
  setText(caption, label);
}

function renderStats(stats) {
  if (!stats) return;
  renderTotals(stats);
  renderCities(stats);
  renderTimeline(stats);
}

function renderRecent(data) {
  const results = (strings && strings.results) || {};
  setText($("dash-conflicts"), String(data.conflicts));
  $("recent").innerHTML = data.scans.length ? data.scans.map((s) => {
    const marks = `${s.offline ? ` · ${esc(t("offline_mark"))}` : ""}${s.conflict ? ` · <strong>${esc(t("conflict"))}</strong>` : ""}`;
    return `<tr class="r-${esc(s.result)}"><td>${esc(secondsFormat.format(new Date(s.at)))}</td>`
      + `<td>${esc(results[s.result] || s.result)}${marks}</td>`
      + `<td>${esc(s.guest || "–")}${s.city ? ` <span class="muted">(${esc(s.city)})</span>` : ""}</td><td>${esc(s.device)}</td></tr>`;
  }).join("") : `<tr><td colspan="4">${esc(t("no_scans"))}</td></tr>`;
}

let recentTimer = null;
let recentRunning = false;
function refreshRecent() {
  // At most one request a second, whatever the rate of `stats` messages.
  if (recentTimer) return;
  recentTimer = setTimeout(async () => {
    recentTimer = null;
    if (recentRunning) return;
    recentRunning = true;
    try {
      const response = await fetch(config.recent, { credentials: "same-origin", cache: "no-store" });
      if (response.ok && (response.headers.get("Content-Type") || "").includes("json")) renderRecent(await response.json());
    } catch {
      /* offline: the next stats message tries again */
    } finally {
      recentRunning = false;
    }
  }, 300);
}

renderStats(readJSON("dash-stats"));
const badge = $("dash-live");
followEvent(config.slug, null, {
  onStats(stats) {
    renderStats(stats);
    refreshRecent();
  },
  onStatus(status) {
    badge.dataset.mode = status.mode;
    setText(badge, t(status.mode));
  },
});
