// The door's name search (#q → #hits): GET …/guests?q= while online (each hit with a button that checks the
// guest in by their reference), the offline guest list while not (hits only: check-in then needs the code).
// A newer search wins over an answer still on its way (ctx.searchSeq).
import { $, esc } from "./dom.js";
import { onlyNetwork, request, setMode } from "./scan-http.js";
import { onAuthProblem, searchList } from "./scan-list.js";

const MIN_CHARS = 3;

export async function search(ctx, q) {
  const { t, fmtTime } = ctx;
  const status = $("search-status");
  const hits = $("hits");
  q = q.trim();
  const seq = ++ctx.searchSeq;
  if (q.length < MIN_CHARS) {
    hits.innerHTML = "";
    status.textContent = q ? t("search_short") : "";
    return;
  }
  let guests;
  let offline = false;
  try {
    const { status: code, data } = await request(ctx, "GET", `/guests?q=${encodeURIComponent(q)}`);
    if (code === 401 || code === 403) {
      onAuthProblem(ctx);
      return;
    }
    guests = (data && data.guests) || [];
    setMode(ctx, "online");
  } catch (exc) {
    onlyNetwork(exc);
    setMode(ctx, "offline");
    offline = true;
    guests = searchList(ctx, q);
  }
  if (seq !== ctx.searchSeq) return; // a newer search is on its way
  status.textContent = offline ? `${t("search_offline")} ${t("search_hits", { n: guests.length })}`
    : guests.length ? t("search_hits", { n: guests.length }) : t("search_none");
  hits.innerHTML = guests.map((g) => {
    const done = g.checked_in_at !== null && g.checked_in_at !== undefined;
    const closed = g.status === "cancelled" || g.status === "waiting"; // no admission
    const state = closed ? `<span class="badge cancelled">${esc(t(`status_${g.status}`))}</span>`
      : done || g.local ? `<span class="badge done">${esc(t("checked_in_at", { time: fmtTime(g.checked_in_at || (g.local && g.local.at)) }))}${g.checked_in_by ? ` · ${esc(g.checked_in_by)}` : ""}</span>` : "";
    // `ref` checks the guest in like their code (door accounts are not given the codes).
    const can = (g.ref || g.code) && !closed;
    return `<li><div class="hit-text"><strong>${esc(g.name)}</strong><span class="muted">${esc([g.city, g.organisation].filter(Boolean).join(" · "))}</span>${state}</div>`
      + `<button type="button" class="primary" data-code="${esc(g.ref || g.code || "")}"${can ? "" : " disabled"}`
      + ` aria-label="${esc(`${t("checkin")}: ${g.name}`)}">${esc(t("checkin"))}</button></li>`;
  }).join("");
}
