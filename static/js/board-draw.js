// The matchmaking picture, drawn locally into an <svg> (no tiles, no libraries): shared by the phone board,
// the board projector and (later) a panel of the agenda screen.
//
//   drawBoard(svg, board, options)
//
// board: the `board` part of the live state ({municipalities, topics, matches, tables}).
// options:
//   view       "map" (default): a schematic map of Rhineland-Palatinate, municipalities placed by lat/lon,
//              lines between matched ones (thicker = higher score);
//              "graph": municipalities (left) ↔ topics (right), edges coloured by stage.
//   highlight  a municipality name to stress (its node, label and links), or null.
//   fontSize   label size in viewBox units (map: 1000 units high; graph: `width` wide). Default 30 / 24.
//   width      viewBox width of the graph view (default 640; larger = smaller text on the same element).
//   linkScale  multiplies the line widths (the projector uses thicker lines).
//   t          a translate function (i18n.js makeT) for "schematisch", stage labels and the aria-label.
//   lang       the page language ("de" | "en"): which of the server's sentences a line's title shows.
//
// Every call updates the same elements in place (keyed by city / pair / topic): links that appear get the
// classes `is-new` (drawn in) and `is-fresh` (highlighted for a few seconds); links that go fade out.
// Lines carry data-cities="A|B" (the pair in code-point order, as the server sorts them).

const NS = "http://www.w3.org/2000/svg";
const FRESH_MS = 6000;
const LEAVE_MS = 700;

// ---- the map: an equirectangular projection fitted to Rhineland-Palatinate ------------------------

const LON0 = 6.1;
const LON1 = 8.5;
const LAT0 = 48.95;
const LAT1 = 50.95;
const UNIT = 500; // viewBox units per degree of latitude
const KX = Math.cos(((LAT0 + LAT1) / 2) * (Math.PI / 180)); // a degree of longitude is shorter up here
const MAP_W = (LON1 - LON0) * KX * UNIT;
const MAP_H = (LAT1 - LAT0) * UNIT;
const PAD = 24;

export const project = (lon, lat) => [(lon - LON0) * KX * UNIT, (LAT1 - lat) * UNIT];

// A rough outline of the state, drawn by hand from a few border points (lon, lat): good enough to see
// north and south, the Rhine side and the Eifel; it is labelled "schematisch" on the picture.
const OUTLINE = [
  [7.85, 50.94], [7.98, 50.82], [8.1, 50.7], [8.12, 50.55], [8.0, 50.42], [8.1, 50.3], [7.9, 50.15],
  [7.77, 50.07], [7.92, 49.97], [8.2, 50.0], [8.3, 49.98], [8.36, 49.87], [8.47, 49.75], [8.38, 49.63],
  [8.47, 49.48], [8.46, 49.32], [8.38, 49.2], [8.23, 48.97], [7.9, 49.05], [7.6, 49.06], [7.38, 49.12],
  [7.3, 49.15], [7.35, 49.25], [7.42, 49.38], [7.4, 49.45], [7.38, 49.55], [7.25, 49.63], [7.1, 49.6],
  [6.95, 49.64], [6.75, 49.63], [6.57, 49.62], [6.38, 49.56], [6.49, 49.7], [6.42, 49.82],
  [6.22, 49.93], [6.13, 50.14], [6.2, 50.3], [6.4, 50.38], [6.6, 50.43], [6.8, 50.5], [7.0, 50.55],
  [7.2, 50.62], [7.35, 50.72], [7.55, 50.85],
];
// Rhine and Moselle, for orientation only.
const RIVERS = [
  [[8.23, 48.97], [8.38, 49.2], [8.45, 49.32], [8.47, 49.48], [8.4, 49.63], [8.47, 49.75], [8.36, 49.87],
   [8.3, 49.98], [8.2, 50.0], [7.92, 49.97], [7.77, 50.07], [7.71, 50.16], [7.6, 50.3], [7.6, 50.36],
   [7.5, 50.43], [7.35, 50.5], [7.23, 50.58], [7.15, 50.66]],
  [[6.38, 49.56], [6.49, 49.7], [6.64, 49.76], [6.8, 49.85], [7.0, 49.93], [7.07, 49.95], [7.17, 50.03],
   [7.15, 50.1], [7.25, 50.15], [7.4, 50.25], [7.6, 50.36]],
];

// ---- small helpers -----------------------------------------------------------------------------------

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.append(node);
  return node;
}

function set(node, attrs) {
  for (const [k, v] of Object.entries(attrs)) {
    const value = String(v);
    if (node.getAttribute(k) !== value) node.setAttribute(k, value);
  }
}

function toggle(node, cls, on) {
  if (node.classList.contains(cls) !== !!on) node.classList.toggle(cls, !!on);
}

const r1 = (n) => Math.round(n * 10) / 10;
const pathOf = (points) => points.map(([lon, lat], i) => `${i ? "L" : "M"}${project(lon, lat).map(r1).join(" ")}`).join("");

/** "A|B" with the pair in code-point order (Python's sorted() on the server does the same). */
export const pairKey = (a, b) => [a, b].sort().join("|");

// ---- the words of a match: finished by the server (webapp/matchmaking/sentences.py), never built here ----

/** The sentences of a match or a suggestion in the page's language ("Kaiserslautern hat die Park App im
 * Betrieb; Trier plant eine."), strongest topic first; German (`reasons`) where a language is missing. */
export function matchSentences(item, lang) {
  const all = (item && item.sentences) || {};
  return all[lang] || all.de || (item && item.reasons) || [];
}

/** Its score explained in one line ("5,5 Punkte: 3 für „Park App“ (Betrieb trifft Planung) und …"). */
export function scoreText(item, lang) {
  const all = (item && item.score_text) || {};
  return all[lang] || all.de || "";
}

/** The short score badge: "5,5 Punkte", "1 Punkt" (t needs score / score_one; number: i18n.js makeNumber). */
export const scoreBadge = (t, number, score) => t(score === 1 ? "score_one" : "score", { score: number.format(score) });

/** Split a long name into at most two lines at the space nearest the middle; cut lines longer than max. */
export function labelLines(name, max = 16) {
  const cut = (s) => (s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s);
  if (name.length <= max) return [name];
  const spaces = [...name.matchAll(/ /g)].map((m) => m.index);
  if (!spaces.length) return [cut(name)];
  const mid = name.length / 2;
  const at = spaces.reduce((best, i) => (Math.abs(i - mid) < Math.abs(best - mid) ? i : best), spaces[0]);
  return [cut(name.slice(0, at)), cut(name.slice(at + 1))];
}

function setLines(text, lines, lineHeight, x = 0) {
  const key = `${x}\n${lines.join("\n")}`;
  if (text.dataset.lines === key) return;
  text.dataset.lines = key;
  text.replaceChildren();
  lines.forEach((line, i) => {
    const span = el("tspan", { x: r1(x), dy: i ? r1(lineHeight) : 0 }, text);
    span.textContent = line;
  });
}

function setTitle(node, text) {
  let title = node.querySelector(":scope > title");
  if (!title) title = el("title", {}, node);
  if (title.textContent !== text) title.textContent = text;
}

function layer(svg, cls) {
  let g = svg.querySelector(`:scope > g.${cls}`);
  if (!g) g = el("g", { class: cls }, svg);
  return g;
}

/** Keyed children of a layer: reuse, create (marked new when `animate`), and fade out the ones gone. */
function keyed(store, key, make, animate) {
  let node = store.get(key);
  if (node && node.classList.contains("is-leaving")) {
    node.classList.remove("is-leaving");
    clearTimeout(node._leave);
  }
  if (!node) {
    node = make();
    store.set(key, node);
    if (animate) {
      node.classList.add("is-new", "is-fresh");
      // Two frames so the start state is painted before the transition to the end state.
      requestAnimationFrame(() => requestAnimationFrame(() => node.classList.remove("is-new")));
      node._fresh = setTimeout(() => node.classList.remove("is-fresh"), FRESH_MS);
    }
  }
  node._seen = true;
  return node;
}

function sweep(store) {
  for (const [key, node] of store) {
    if (node._seen) {
      node._seen = false;
      continue;
    }
    if (node.classList.contains("is-leaving")) continue;
    node.classList.add("is-leaving");
    node._leave = setTimeout(() => {
      node.remove();
      store.delete(key);
    }, LEAVE_MS);
  }
}

function translate(node, x, y) {
  const value = `translate(${r1(x)}px, ${r1(y)}px)`;
  if (node.style.transform !== value) node.style.transform = value;
}

// ---- label placement: greedy, the most important first, the candidate spot that overlaps least -------

const CHAR = 0.6; // average glyph width of the system sans fonts, in font sizes

function labelBox(lines, font, x, y, anchor, baselineShift) {
  const w = Math.max(...lines.map((l) => l.length)) * font * CHAR;
  const h = lines.length * font * 1.1;
  const left = anchor === "start" ? x : anchor === "end" ? x - w : x - w / 2;
  const top = y + baselineShift - font * 0.85;
  return { left, top, right: left + w, bottom: top + h };
}

const overlap = (a, b) =>
  Math.max(0, Math.min(a.right, b.right) - Math.max(a.left, b.left)) * Math.max(0, Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top));

function placeLabels(items, font, bounds) {
  // items: [{key, x, y, r, lines}], most important first. Returns {key: {x, y, anchor, shift}}.
  const placed = [];
  const result = {};
  const discs = items.map((it) => ({ left: it.x - it.r, top: it.y - it.r, right: it.x + it.r, bottom: it.y + it.r }));
  for (const it of items) {
    const gap = it.r + font * 0.3;
    const h = it.lines.length * font * 1.1;
    const mid = font * 0.35 - ((it.lines.length - 1) * font * 1.1) / 2;
    const candidates = [
      [gap, mid, "start"], [-gap, mid, "end"], [0, -gap - h + font * 0.85, "middle"], [0, gap + font * 0.85, "middle"],
      [gap * 0.75, -gap * 0.6 - (h - font) , "start"], [gap * 0.75, gap + font * 0.6, "start"],
      [-gap * 0.75, -gap * 0.6 - (h - font), "end"], [-gap * 0.75, gap + font * 0.6, "end"],
    ];
    let best = null;
    candidates.forEach(([dx, dy, anchor], i) => {
      const box = labelBox(it.lines, font, it.x + dx, it.y + dy, anchor, 0);
      let cost = i * 4;
      for (const other of placed) cost += overlap(box, other) * 3;
      discs.forEach((d, j) => {
        if (items[j] !== it) cost += overlap(box, d) * 4;
      });
      const out = (box.right - box.left) * (box.bottom - box.top) - overlap(box, bounds);
      cost += out * 6;
      if (!best || cost < best.cost) best = { cost, box, x: it.x + dx, y: it.y + dy, anchor };
    });
    placed.push(best.box);
    result[it.key] = best;
  }
  return result;
}

// ---- the map -------------------------------------------------------------------------------------

function drawMap(svg, board, opts, store, animate) {
  const font = opts.fontSize || 30;
  const linkScale = opts.linkScale || 1;
  const t = opts.t || ((k) => k);
  set(svg, { viewBox: `${-PAD} ${-PAD} ${r1(MAP_W + 2 * PAD)} ${MAP_H + 2 * PAD}` });

  const base = layer(svg, "bd-base");
  if (!base.firstChild) {
    el("path", { class: "bd-state", d: `${pathOf(OUTLINE)}Z` }, base);
    for (const river of RIVERS) el("path", { class: "bd-river", d: pathOf(river) }, base);
    const note = el("text", { class: "bd-schematic", x: 6, y: MAP_H - 6 }, base);
    note.textContent = t("schematic");
  }
  const schematic = base.querySelector(".bd-schematic");
  set(schematic, { "font-size": Math.round(font * 0.7) });
  if (schematic.textContent !== t("schematic")) schematic.textContent = t("schematic");

  const linksLayer = layer(svg, "bd-links");
  const nodesLayer = layer(svg, "bd-nodes");
  const labelsLayer = layer(svg, "bd-labels");

  // Where each municipality sits; the ones without coordinates stack in the empty south-west corner.
  const pos = new Map();
  let spare = 0;
  for (const m of board.municipalities || []) {
    if (typeof m.lat === "number" && typeof m.lon === "number") pos.set(m.name, project(m.lon, m.lat));
    else pos.set(m.name, [font * 0.8, MAP_H - font * 2.2 - spare++ * font * 1.6]);
  }
  const weight = new Map();
  for (const match of board.matches || []) {
    for (const c of match.cities) weight.set(c, (weight.get(c) || 0) + match.score);
  }
  const highlight = opts.highlight && pos.has(opts.highlight) ? opts.highlight : null;
  toggle(svg, "has-highlight", !!highlight);

  // Lines, the weakest first so the strong ones are drawn on top.
  const matches = [...(board.matches || [])].filter((m) => pos.has(m.cities[0]) && pos.has(m.cities[1]));
  const strongest = new Set(matches.slice(0, 3).map((m) => pairKey(...m.cities)));
  matches.sort((a, b) => a.score - b.score);
  const order = [];
  for (const match of matches) {
    const key = pairKey(...match.cities);
    const line = keyed(store.links, key, () => el("path", { class: "bd-link", pathLength: 1 }), animate);
    const [a, b] = key.split("|").map((c) => pos.get(c));
    set(line, {
      d: `M${r1(a[0])} ${r1(a[1])}L${r1(b[0])} ${r1(b[1])}`,
      "stroke-width": r1(Math.min(20, 1.5 + 2.2 * match.score) * linkScale),
      "data-cities": key, "data-score": match.score,
    });
    toggle(line, "is-strong", strongest.has(key));
    toggle(line, "is-weak", match.score < 1.5);
    toggle(line, "is-mine", !!highlight && match.cities.includes(highlight));
    setTitle(line, `${match.cities.join(" – ")}: ${matchSentences(match, opts.lang)[0] || ""}`);
    order.push(line);
  }
  for (const line of order) linksLayer.append(line); // keeps z-order = score order (moving is cheap)
  for (const node of store.links.values()) if (!node.parentNode) linksLayer.append(node);

  // Nodes and labels: the host first, then by how linked a municipality is.
  const names = [...pos.keys()].sort((a, b) => {
    const ma = board.municipalities.find((m) => m.name === a);
    const mb = board.municipalities.find((m) => m.name === b);
    return (mb.is_host - ma.is_host) || (b === highlight) - (a === highlight) || (weight.get(b) || 0) - (weight.get(a) || 0) || (a < b ? -1 : 1);
  });
  const items = [];
  for (const name of names) {
    const m = board.municipalities.find((x) => x.name === name);
    const [x, y] = pos.get(name);
    const r = (m.is_host ? 4 : 0) + Math.min(17, 7 + 1.4 * Math.sqrt(weight.get(name) || 0)) * (font / 30);
    const node = keyed(store.nodes, name, () => {
      const g = el("g", { class: "bd-node" });
      el("circle", { class: "bd-ring", r: 0 }, g);
      el("circle", { class: "bd-dot", r: 0 }, g);
      return g;
    }, animate);
    set(node, { "data-city": name });
    toggle(node, "is-host", m.is_host);
    toggle(node, "is-mine", name === highlight);
    toggle(node, "is-linked", weight.has(name));
    translate(node, x, y);
    set(node.children[0], { r: r1(r + (m.is_host ? 6 : 0)) });
    set(node.children[1], { r: r1(r) });
    setTitle(node, m.is_host ? `${name} (${t("host")})` : name);
    nodesLayer.append(node);
    items.push({ key: name, x, y, r: r + (m.is_host ? 6 : 0), lines: labelLines(name, 15), host: m.is_host });
  }
  const bounds = { left: -PAD, top: -PAD, right: MAP_W + PAD, bottom: MAP_H + PAD };
  const spots = placeLabels(items, font, bounds);
  for (const it of items) {
    const spot = spots[it.key];
    const label = keyed(store.labels, it.key, () => el("text", { class: "bd-label" }), animate);
    set(label, { "data-city": it.key, "text-anchor": spot.anchor, "font-size": font });
    toggle(label, "is-host", it.host);
    toggle(label, "is-mine", it.key === highlight);
    setLines(label, it.lines, font * 1.1);
    translate(label, spot.x, spot.y);
    labelsLayer.append(label);
  }
  sweep(store.links);
  sweep(store.nodes);
  sweep(store.labels);
  set(svg, { "aria-label": t("map_label", { n: pos.size, m: matches.length }) });
}

// ---- the municipality ↔ topic graph --------------------------------------------------------------

function drawGraph(svg, board, opts, store, animate) {
  const W = opts.width || 640;
  const font = opts.fontSize || 24;
  const t = opts.t || ((k) => k);
  const row = font * 2.3;
  const topics = (board.topics || []).filter((tp) => tp.cities.length);
  const cities = [...(board.municipalities || [])].sort((a, b) => (b.is_host - a.is_host) || (a.name < b.name ? -1 : 1));
  const rows = Math.max(topics.length, cities.length, 1);
  const H = rows * row + font;
  set(svg, { viewBox: `0 0 ${W} ${r1(H)}` });
  const xCity = W * 0.37;
  const xTopic = W * 0.6;
  const chars = (room) => Math.max(6, Math.floor((room - font) / (font * CHAR)));
  const maxChars = { city: chars(xCity), topic: chars(W - xTopic) };
  const yOf = (i, n) => font / 2 + (rows - n) * row / 2 + i * row + row / 2;
  const cityY = new Map(cities.map((c, i) => [c.name, yOf(i, cities.length)]));
  const topicY = new Map(topics.map((tp, i) => [tp.slug, yOf(i, topics.length)]));
  const highlight = opts.highlight && cityY.has(opts.highlight) ? opts.highlight : null;
  toggle(svg, "has-highlight", !!highlight);

  const edgesLayer = layer(svg, "bd-edges");
  const nodesLayer = layer(svg, "bd-gnodes");
  const stageOrder = { interested: 0, plans: 1, runs: 2 };
  const edges = [];
  for (const tp of topics) {
    for (const c of tp.cities) if (cityY.has(c.city)) edges.push([tp, c]);
  }
  edges.sort((a, b) => stageOrder[a[1].stage] - stageOrder[b[1].stage]);
  for (const [tp, c] of edges) {
    const key = `${c.city}|${tp.slug}`;
    const edge = keyed(store.edges, key, () => el("path", { class: "bd-edge", pathLength: 1 }), animate);
    const y1 = cityY.get(c.city);
    const y2 = topicY.get(tp.slug);
    const mid = (xCity + xTopic) / 2;
    const d = `M${r1(xCity)} ${r1(y1)}C${r1(mid)} ${r1(y1)} ${r1(mid)} ${r1(y2)} ${r1(xTopic)} ${r1(y2)}`;
    set(edge, { d, "data-city": c.city, "data-topic": tp.slug, "data-stage": c.stage });
    for (const stage of Object.keys(stageOrder)) toggle(edge, `stage-${stage}`, stage === c.stage);
    if (edge.style.d !== `path("${d}")`) edge.style.d = `path("${d}")`; // glides where CSS `d` transitions
    toggle(edge, "is-mine", c.city === highlight);
    setTitle(edge, t("stage_title", { city: c.city, topic: tp.name, stage: t(`stage_${c.stage}`) }));
    edgesLayer.append(edge);
  }
  const nodeFor = (key, side, name, y, extra) => {
    const node = keyed(store.gnodes, key, () => {
      const g = el("g", { class: `bd-gnode side-${side}` });
      el("circle", { class: "bd-dot", r: 0 }, g);
      el("text", { class: "bd-label" }, g);
      return g;
    }, animate);
    const [dot, text] = node.children;
    set(dot, { r: r1(font * 0.32) });
    const x = side === "city" ? -font * 0.6 : font * 0.6;
    set(text, { "text-anchor": side === "city" ? "end" : "start", "font-size": font });
    const lines = labelLines(name, maxChars[side]);
    setLines(text, lines, font * 1.05, x);
    set(text, { transform: `translate(0 ${r1(font * 0.35 - ((lines.length - 1) * font * 1.05) / 2)})` });
    translate(node, side === "city" ? xCity : xTopic, y);
    setTitle(node, name);
    for (const [k, v] of Object.entries(extra)) toggle(node, k, v);
    nodesLayer.append(node);
  };
  for (const c of cities) {
    nodeFor(`c:${c.name}`, "city", c.name, cityY.get(c.name), { "is-host": c.is_host, "is-mine": c.name === highlight });
    store.gnodes.get(`c:${c.name}`).dataset.city = c.name;
  }
  for (const tp of topics) {
    nodeFor(`t:${tp.slug}`, "topic", tp.name, topicY.get(tp.slug),
            { "is-mine": !!highlight && tp.cities.some((c) => c.city === highlight) });
    store.gnodes.get(`t:${tp.slug}`).dataset.topic = tp.slug;
  }
  sweep(store.edges);
  sweep(store.gnodes);
  set(svg, { "aria-label": t("graph_label", { n: cities.length, m: topics.length }) });
}

// ---- entry point ---------------------------------------------------------------------------------

export function drawBoard(svg, board, options = {}) {
  const view = options.view === "graph" ? "graph" : "map";
  if (!board) return;
  let store = svg._board;
  if (!store || store.view !== view) {
    svg.replaceChildren();
    store = { view, links: new Map(), nodes: new Map(), labels: new Map(), edges: new Map(), gnodes: new Map(), drawn: false };
    svg._board = store;
  }
  set(svg, { role: "img", "data-view": view });
  svg.classList.add("board-picture");
  const animate = store.drawn && options.animate !== false;
  if (view === "map") drawMap(svg, board, options, store, animate);
  else drawGraph(svg, board, options, store, animate);
  store.drawn = true;
}
