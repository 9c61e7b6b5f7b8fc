// The offline guest list: downloaded from …/checkin-list and kept in the scan store, it holds salted hashes
// of the tickets, codes and badge codes (never the codes themselves), so the door can still tell "ok" / "already" /
// "unknown" while the network is down. Also what this phone let in offline (`admitted`, again by hash
// only), so a second offline scan of the same guest is "already". State lives in `ctx` (scanner.js).
import { $ } from "./dom.js";
import { parseScan } from "./scan-code.js";
import { onlyNetwork, renderNet, request, setMode } from "./scan-http.js";
import { sha256Hex } from "./sha256.js";
import { loadText, saveText } from "./storage.js";

const SAVE_DELAY_MS = 500;

/** The server's salt of the event's list, kept apart from the list (wiped at logout with the rest). */
const saltKey = (slug) => `treffpunkt:scanner-salt:${slug}`;

/** The list's hash of a token or code: the first 32 hex digits of SHA-256("<salt>:<value>"). */
export const hashOf = async (salt, value) => (await sha256Hex(`${salt}:${value}`)).slice(0, 32);

/** The key of a guest let in offline: "t:<hash>" / "c:<hash>" / "b:<hash>". */
const admittedKey = async (ctx, kind, value) =>
  `${kind}:${await hashOf(ctx.list ? ctx.list.record.salt : loadText(saltKey(ctx.slug), ""), value)}`;

/** The list's entries by token ("t"), typed code ("c") and badge code ("b", where the list has them). */
const byKind = (list, kind) => list[{ t: "byT", c: "byC", b: "byB" }[kind]];

async function lookup(ctx, kind, value) {
  if (!ctx.list) return null;
  const hash = await hashOf(ctx.list.record.salt, value);
  return byKind(ctx.list, kind).get(hash) || null;
}

/** Make `record` ({slug, salt, guests, fetchedAt}) the list in use. */
export async function useList(ctx, record) {
  const { store, slug } = ctx;
  const byT = new Map();
  const byC = new Map();
  const byB = new Map();
  for (const g of record.guests) {
    byT.set(g.t, g);
    byC.set(g.c, g);
    if (g.b) byB.set(g.b, g);
  }
  ctx.list = { record, byT, byC, byB };
  // Guests this phone let in offline: find them under the new salt; drop those the server knows about.
  const queued = new Set((await store.all("queue", slug)).map((q) => q.nonce));
  const stale = [];
  ctx.admitted = new Map();
  for (const rec of await store.all("admitted", slug)) {
    const entry = byKind(ctx.list, rec.kind).get(rec.hash) || null;
    if (entry && entry.checked_in && !queued.has(rec.nonce)) {
      stale.push(rec.nonce);
      continue;
    }
    if (entry) entry.local = rec;
    ctx.admitted.set(`${rec.kind}:${rec.hash}`, rec);
  }
  await store.remove("admitted", stale);
  renderListStatus(ctx);
}

export function renderListStatus(ctx) {
  const { list, t } = ctx;
  const el = $("list-status");
  if (!list) {
    el.textContent = t("list_none");
    el.dataset.count = "";
    return;
  }
  const n = list.record.guests.length;
  const old = listAge(ctx) > 3 * ctx.config.list_refresh * 1000;
  el.textContent = t(old ? "list_stale" : "list", { n, time: ctx.fmtTime(list.record.fetchedAt) });
  el.dataset.count = String(n);
  el.dataset.fetchedAt = list.record.fetchedAt;
}

const listAge = (ctx) => Date.now() - new Date(ctx.list.record.fetchedAt).getTime();

/** No list yet, or one older than the refresh interval. */
export const listDue = (ctx) => !ctx.list || listAge(ctx) > ctx.config.list_refresh * 1000;

function saveListSoon(ctx) {
  clearTimeout(ctx.timers.listSave);
  ctx.timers.listSave = setTimeout(() => {
    if (!ctx.list) return;
    const { record } = ctx.list;
    const guests = record.guests.map(({ local, ...g }) => g);
    ctx.store.put("lists", { ...record, guests }).catch(() => {});
  }, SAVE_DELAY_MS);
}

/** Signed out or revoked (a lost phone): the guest list leaves the phone; the queue stays for the next
 * sign-in, so nothing scanned is lost. */
export function onAuthProblem(ctx) {
  ctx.net.authProblem = true;
  renderNet(ctx);
  if (ctx.list && ctx.store) {
    ctx.list = null;
    ctx.store.remove("lists", [ctx.slug]).catch(() => {});
    renderListStatus(ctx);
  }
}

/** Download the list (GET …/checkin-list), store it and use it. */
export async function fetchList(ctx) {
  try {
    const { status, data } = await request(ctx, "GET", "/checkin-list");
    if (status === 401 || status === 403) return onAuthProblem(ctx);
    if (status !== 200 || !data || !Array.isArray(data.guests)) return;
    setMode(ctx, "online");
    const record = { slug: ctx.slug, salt: data.salt, guests: data.guests, fetchedAt: new Date().toISOString() };
    saveText(saltKey(ctx.slug), data.salt); // storage off: the list in memory still works
    await ctx.store.put("lists", record);
    await useList(ctx, record);
  } catch (exc) {
    onlyNetwork(exc);
    setMode(ctx, "offline");
  }
}

/** After the server answered a scan: keep the list's entry current, so an offline rescan is "already". */
export async function learn(ctx, text, answer) {
  const parsed = parseScan(text);
  if (!parsed || !ctx.list || !answer) return;
  const entry = await lookup(ctx, parsed.kind, parsed.value);
  if (!entry) return;
  if (answer.result === "ok" || answer.result === "already") {
    entry.checked_in = true;
    entry.at = answer.checked_in_at;
    entry.by = answer.by;
  } else if (answer.result === "undone") {
    entry.checked_in = false;
    entry.local = null;
  } else if (answer.result === "cancelled" || answer.result === "waiting") {
    entry.status = answer.result;
  }
  saveListSoon(ctx);
}

/** The answer the list gives for a scanned text while offline: {result, parsed, entry?, guest?, detail?}. */
export async function validateLocally(ctx, text) {
  const { t, fmtTime, list } = ctx;
  const parsed = parseScan(text);
  const local = parsed && ctx.admitted.get(await admittedKey(ctx, parsed.kind, parsed.value));
  if (local) {
    return { result: "already", parsed, guest: { name: local.name, city: local.city },
             detail: t("already_local", { time: fmtTime(local.at) }) };
  }
  if (!list) return { result: "unverified", parsed, detail: t("no_list") };
  // A list without badge codes (from an older server) cannot tell: staff decide, as without a list.
  if (parsed && parsed.kind === "b" && !list.byB.size) return { result: "unverified", parsed, detail: t("badge_offline") };
  const entry = parsed ? await lookup(ctx, parsed.kind, parsed.value) : null;
  if (!entry) {
    return { result: "unknown", parsed, detail: t("unknown_offline", { time: fmtTime(list.record.fetchedAt) }) };
  }
  const guest = { name: entry.name, city: entry.city };
  // A cancelled registration, or a place on the waiting list: no admission.
  if (entry.status === "cancelled" || entry.status === "waiting") return { result: entry.status, parsed, entry, guest };
  if (entry.local) {
    return { result: "already", parsed, entry, guest, detail: t("already_local", { time: fmtTime(entry.local.at) }) };
  }
  if (entry.checked_in) {
    const detail = entry.at ? t("already_detail", { time: fmtTime(entry.at), by: entry.by || "?" }) : t("already_list");
    return { result: "already", parsed, entry, guest, detail };
  }
  return { result: "ok", parsed, entry, guest };
}

/** Remember that this phone let the guest of queue item `item` in offline (`local` from validateLocally). */
export async function admitLocally(ctx, item, local) {
  if (!local.parsed) return;
  const key = await admittedKey(ctx, local.parsed.kind, local.parsed.value);
  const rec = { nonce: item.nonce, slug: ctx.slug, kind: local.parsed.kind, hash: key.slice(2),
                name: local.guest ? local.guest.name : "", city: local.guest ? local.guest.city : "",
                at: item.scanned_at };
  await ctx.store.put("admitted", rec);
  ctx.admitted.set(key, rec);
  if (local.entry) local.entry.local = rec;
}

/** The offline admission of scan `nonce` no longer holds (undone, or the server said otherwise). */
export async function forgetLocal(ctx, nonce) {
  await ctx.store.remove("admitted", [nonce]);
  for (const [key, rec] of ctx.admitted) {
    if (rec.nonce === nonce) ctx.admitted.delete(key);
  }
  if (ctx.list) for (const g of ctx.list.record.guests) if (g.local && g.local.nonce === nonce) g.local = null;
}

/** Offline name search: up to 30 guests of the list whose name or municipality contains `q`. */
export function searchList(ctx, q) {
  const needle = q.toLowerCase();
  return (ctx.list ? ctx.list.record.guests : [])
    .filter((g) => g.name.toLowerCase().includes(needle) || (g.city || "").toLowerCase().includes(needle))
    .slice(0, 30)
    .map((g) => ({ name: g.name, city: g.city, status: g.status, code: null,
                   checked_in_at: g.checked_in ? g.at || "" : null, local: g.local }));
}
