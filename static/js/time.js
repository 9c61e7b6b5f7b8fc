// Times in the event's time zone: formatters, the ?at= parser, the page clock (server time or a virtual
// one) and the labels built from durations ("+10 min", "in 12 min", "vor 5 min"). No DOM access at import
// time; makeClock reads location.search when it is called.
import { localeOf } from "./i18n.js";

export const ms = (iso) => new Date(iso).getTime();
export const MINUTE = 60000;

/** Formatters for one time zone and language: time "14:05", date "Fr., 26.10.2018", dayKey "2018-10-26". */
export function makeFormat(timeZone, lang) {
  const locale = localeOf(lang);
  const zone = safeZone(timeZone);
  const time = new Intl.DateTimeFormat(locale, { hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: zone });
  const date = new Intl.DateTimeFormat(locale, { weekday: "short", day: "2-digit", month: "2-digit", year: "numeric", timeZone: zone });
  const longDate = new Intl.DateTimeFormat(locale, { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: zone });
  const day = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: zone });
  const asDate = (d) => (d instanceof Date ? d : new Date(d));
  return {
    timeZone: zone,
    time: (d) => time.format(asDate(d)),
    range: (a, b) => `${time.format(asDate(a))}–${time.format(asDate(b))}`,
    date: (d) => date.format(asDate(d)),
    longDate: (d) => longDate.format(asDate(d)),
    dayKey: (d) => day.format(asDate(d)),
  };
}

/** The staff pages' clock times: "14:05" (or "14:05:09" with seconds) in the event's zone. */
export function clockFormat(lang, timeZone, { seconds = false } = {}) {
  const options = { hour: "2-digit", minute: "2-digit", timeZone };
  if (seconds) options.second = "2-digit";
  return new Intl.DateTimeFormat(localeOf(lang), options);
}

function safeZone(zone) {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return zone;
  } catch {
    return "Europe/Berlin";
  }
}

/** Offset of a time zone at an instant, in ms (Europe/Berlin in summer: +7200000). */
function zoneOffset(utcMs, timeZone) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(utcMs));
  const v = Object.fromEntries(parts.map((p) => [p.type, Number(p.value)]));
  const asUTC = Date.UTC(v.year, v.month - 1, v.day, v.hour % 24, v.minute, v.second);
  return asUTC - Math.floor(utcMs / 1000) * 1000;
}

/**
 * The instant a ?at= value names. Accepts a full ISO time with offset ("2018-10-26T15:40:00+02:00"; a "+"
 * that the query string turned into a space is repaired), a wall-clock time in the event's zone
 * ("2018-10-26T15:40") or just "15:40" (on the event's first day). Returns a Date or null.
 */
export function parseAt(value, timeZone, eventStartIso) {
  if (!value) return null;
  let s = value.trim().replace(/ (\d\d:?\d\d)$/, "+$1");
  if (/^\d{1,2}:\d\d(:\d\d)?$/.test(s) && eventStartIso) {
    const day = makeFormat(timeZone, "de").dayKey(eventStartIso);
    s = `${day}T${s.padStart(5, "0")}`;
  }
  if (/(Z|[+-]\d\d:?\d\d)$/i.test(s)) {
    const d = new Date(s);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  const m = s.match(/^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d)(?::(\d\d))?)?$/);
  if (!m) return null;
  const wall = Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] || 0), +(m[5] || 0), +(m[6] || 0));
  const zone = safeZone(timeZone);
  let guess = wall - zoneOffset(wall, zone);
  guess = wall - zoneOffset(guess, zone); // once more, for instants next to a DST switch
  return new Date(guess);
}

/**
 * The page's clock. now() is normally the server's time (live.serverNow(), set with useServer; the device's
 * own time until then); with ?at=<time> in the page URL (`search`, default location.search) it starts at
 * that instant and runs on — for rehearsals, demos and tests. serverNow() is always the server's time (what
 * announcements expire by), virtual clock or not.
 */
export function makeClock(event, search = location.search) {
  const params = new URLSearchParams(search);
  const at = parseAt(params.get("at"), event.timezone, event.start);
  let server = () => new Date();
  const clock = {
    virtual: !!at,
    now: () => server(),
    serverNow: () => server(),
    useServer(fn) {
      if (fn) server = fn;
    },
  };
  if (at) {
    const t0 = Date.now();
    clock.now = () => new Date(at.getTime() + (Date.now() - t0));
  }
  return clock;
}

/** "+10 min", "-5 min", or "" for no delay. */
export function delayLabel(minutes) {
  if (!minutes) return "";
  return `${minutes > 0 ? "+" : "-"}${Math.abs(minutes)} min`;
}

/** "8 min", "1 Std. 20 min" (rounded up to whole minutes). */
export function durationLabel(t, millis) {
  const total = Math.max(0, Math.ceil(millis / MINUTE));
  if (total < 60) return t("min", { n: total });
  const h = Math.floor(total / 60);
  const m = total % 60;
  return m ? t("hmin", { h, m }) : t("h", { h });
}

/** "in 12 min" before the start, "noch 8 min" while running, "" after. */
export function countdown(t, session, now) {
  const n = now.getTime();
  const start = ms(session.start);
  const end = ms(session.end);
  if (n < start) return t("in", { d: durationLabel(t, start - n) });
  if (n < end) return t("left", { d: durationLabel(t, end - n) });
  return "";
}

/** "vor 5 min" / "gerade eben" for an age in ms. */
export function agoLabel(t, millis) {
  if (millis < MINUTE) return t("just_now");
  return t("ago", { d: durationLabel(t, millis - (millis % MINUTE)) });
}
