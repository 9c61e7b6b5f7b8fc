// The bench's clients: N websocket connections speaking Engine.IO 4 / Socket.IO 5 to /live the way a phone
// on the agenda does (auth {event, since, stats: false}; the first `cfg.watchers` connect as a projector
// showing the counters does, without "stats": false), plus the staff side that makes the changes (fan-out) or scans tickets (storm).
// One lean client for every server under test, so the servers are compared with the same clients.
// Written on raw `ws` rather than socket.io-client: 5,000 of them must fit in one process beside the server.
//
//   node load-client.mjs '<json config>'     (bench/fanout.py builds the config)
//
// stdout: one JSON object per line: {"type":"progress"|"phase"|"result", ...}. The bench reads the server's
// CPU time when it sees phase "measuring" and phase "measured".
import { performance } from "node:perf_hooks";
import { createInterface } from "node:readline";
import WebSocket from "ws";

const cfg = JSON.parse(process.argv[2]);
const out = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const NS = "/live";
let messageBytes = null; // size of a `change` frame's text, to give the reference server the same payload
const wsUrl = cfg.url.replace(/^http/, "ws") + "/socket.io/?EIO=4&transport=websocket";
const pollUrl = cfg.url + "/socket.io/?EIO=4&transport=polling";

function intAfter(text, key) {
  // The number after `"key":` — cheaper than JSON.parse of every message on 5,000 sockets.
  const i = text.indexOf(`"${key}":`);
  return i < 0 ? null : parseInt(text.slice(i + key.length + 3, i + key.length + 16), 10);
}

// socket.io-client's reconnection back-off with its defaults (reconnectionDelay 1000, reconnectionDelayMax
// 5000, randomizationFactor 0.5): attempt n waits 1000·2^(n−1) ms ± up to half of it, at most 5 s.
function backoff(attempt) {
  let ms = 1000 * 2 ** (attempt - 1);
  const rand = Math.random();
  const deviation = Math.floor(rand * 0.5 * ms);
  ms = (Math.floor(rand * 10) & 1) === 0 ? ms - deviation : ms + deviation;
  return Math.min(ms, 5000);
}

class Phone {
  constructor(localAddress, watcher) {
    this.localAddress = localAddress; // the source address (a cluster's ip_hash spreads clients by it)
    this.watcher = watcher; // shows the arrival counters (a projector); else an agenda page that asks for none
    this.unwantedStats = 0; // `stats` messages that reached a client that asked for none
    this.arrivals = []; // [revision, ms]
    this.heartbeats = 0;
    this.checkedIn = null;
    this.statsAt = 0;
    this.synced = false;
    this.closed = false;
    this.revision = null; // the newest revision this phone knows (from `synced` and `change`)
    this.autoReconnect = false; // reconnect mode: come back after a close, as socket.io-client does
    this.reconnecting = false;
    this.attempts = 0; // reconnection attempts that failed
    this.closedAt = null;
    this.backAt = null; // when the reconnect's `synced` arrived
  }

  reconnect() {
    if (this.reconnecting) return;
    this.reconnecting = true;
    const attempt = async (n) => {
      await sleep(backoff(n));
      try {
        await this.connect();
        this.reconnecting = false;
        this.closed = false;
        this.backAt = performance.now();
      } catch {
        this.attempts += 1;
        if (this.ws) this.ws.terminate();
        attempt(n + 1);
      }
    };
    attempt(1);
  }

  connect() {
    return cfg.transport === "polling" ? this.connectPolling() : this.connectWebsocket();
  }

  // One Engine.IO packet as text, from either transport; `send` answers on the same transport, `done(err)`
  // settles the connect (its first call counts).
  receive(text, send, done) {
    const now = performance.now();
    if (text === "2") {
      send("3");
    } else if (text[0] === "0") {
      const since = this.revision ?? cfg.since;
      send(`40${NS},` + JSON.stringify(this.watcher ? { event: cfg.event, since } : { event: cfg.event, since, stats: false }));
    } else if (text.startsWith(`44${NS},`)) {
      done(new Error("refused: " + text));
    } else if (text.startsWith(`42${NS},["change"`)) {
      const revision = intAfter(text, "revision");
      this.arrivals.push([revision, now]);
      this.revision = Math.max(this.revision ?? revision, revision);
      messageBytes = text.length;
    } else if (text.startsWith(`42${NS},["stats"`)) {
      this.checkedIn = intAfter(text, "checked_in");
      this.statsAt = now;
      if (!this.watcher) this.unwantedStats += 1;
    } else if (text.startsWith(`42${NS},["heartbeat"`)) {
      this.heartbeats += 1;
    } else if (text.startsWith(`42${NS},["synced"`)) {
      const revision = intAfter(text, "revision");
      this.revision = Math.max(this.revision ?? revision, revision);
      this.synced = true;
      done();
    }
  }

  connectWebsocket() {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false, localAddress: this.localAddress });
      this.ws = ws;
      const timer = setTimeout(() => reject(new Error("connect timeout")), cfg.connectTimeoutMs || 30000);
      const done = (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      const send = (text) => ws.send(text);
      ws.on("message", (buf) => this.receive(buf.toString(), send, done));
      ws.on("error", (err) => done(err));
      ws.on("close", () => {
        if (ws !== this.ws) return; // an earlier attempt's socket
        done(new Error("closed"));
        this.closed = true;
        this.closedAt ??= performance.now();
        if (this.autoReconnect) this.reconnect();
      });
    });
  }

  // Engine.IO long-polling, as a phone whose network lets no websocket through: one GET always waiting for
  // the server's packets (separated by \x1e), a POST for each packet of ours. Fan-out mode only.
  connectPolling() {
    return new Promise((resolve, reject) => {
      const abort = new AbortController();
      const timer = setTimeout(() => reject(new Error("connect timeout")), cfg.connectTimeoutMs || 30000);
      const done = (err) => {
        clearTimeout(timer);
        if (err) reject(err);
        else resolve();
      };
      let sid = null;
      const url = () => pollUrl + (sid ? `&sid=${sid}` : "");
      const send = (text) =>
        fetch(url(), { method: "POST", body: text, signal: abort.signal })
          .then((res) => res.arrayBuffer())
          .catch(() => {}); // a failed POST shows as a missing answer (the server closes the session)
      const close = (err) => {
        this.closed = true;
        this.closedAt ??= performance.now();
        done(err);
      };
      this.ws = { terminate: () => abort.abort() };
      (async () => {
        while (!abort.signal.aborted) {
          let body;
          try {
            const res = await fetch(url(), { signal: abort.signal });
            body = await res.text();
            if (!res.ok) throw new Error(`poll answered ${res.status}: ${body.slice(0, 200)}`);
          } catch (err) {
            if (!abort.signal.aborted) close(err);
            return;
          }
          for (const packet of body.split("\x1e")) {
            if (packet === "1") return close(new Error("closed")); // the server closed the session
            if (sid === null && packet[0] === "0") sid = JSON.parse(packet.slice(1)).sid;
            this.receive(packet, send, done);
          }
        }
      })();
    });
  }
}

async function connectAll(n) {
  const addresses = cfg.localAddresses || [undefined];
  const watchers = cfg.watchers ?? 0;
  const phones = Array.from({ length: n }, (_, i) => new Phone(addresses[i % addresses.length], i < watchers));
  let next = 0;
  let done = 0;
  let failed = 0;
  const started = performance.now();
  let lastReport = 0;
  async function worker() {
    while (next < n) {
      const phone = phones[next++];
      try {
        await phone.connect();
      } catch (err) {
        failed += 1;
        if (failed <= 3) out({ type: "progress", message: `connect failed: ${err.message}` });
      }
      done += 1;
      if (performance.now() - lastReport > 1000 || done === n) {
        lastReport = performance.now();
        out({ type: "progress", connected: done - failed, of: n, failed });
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(cfg.concurrency || 100, n) }, worker));
  return { phones, failed, seconds: (performance.now() - started) / 1000 };
}

async function request(method, path, body) {
  const headers = { "Content-Type": "application/json" };
  if (cfg.token) headers.Authorization = `Bearer ${cfg.token}`;
  let res;
  try {
    res = await fetch(cfg.url + path, { method, headers, body: JSON.stringify(body) });
  } catch (err) {
    throw new Error(`${method} ${path}: ${err.message} (${err.cause?.code || err.cause?.message || "no cause"})`);
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50_ms: percentile(sorted, 50),
    p99_ms: percentile(sorted, 99),
    max_ms: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

// Fire `count` requests at a steady rate, not waiting for answers (a slow server must not slow the rate).
async function steady(count, perSecond, send) {
  const start = performance.now();
  const pending = [];
  for (let i = 0; i < count; i++) {
    const due = start + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    pending.push(send(i));
  }
  return Promise.all(pending);
}

async function fanout(phones) {
  const sent = []; // [revision, ms sent]
  const sessions = cfg.sessions || [];
  const results = await steady(cfg.changes, cfg.rate, async (i) => {
    const t0 = performance.now();
    let answer;
    if (cfg.target === "reference") {
      answer = await request("POST", "/bench/change", { event: cfg.event, payload: cfg.payload });
    } else {
      // alternate delays so every PATCH is a real change (and one revision)
      const id = sessions[i % sessions.length];
      answer = await request("PATCH", `/api/v1/events/${cfg.event}/sessions/${id}`, {
        delay_minutes: (Math.floor(i / sessions.length) % 2) ? 0 : 5,
      });
    }
    sent.push([answer.revision, t0]);
    return performance.now() - t0;
  });
  const revisions = new Set(sent.map(([r]) => r));
  const deadline = performance.now() + (cfg.drainMs || 15000);
  const complete = () => phones.every((p) => p.closed || p.arrivals.length >= revisions.size);
  while (!complete() && performance.now() < deadline) await sleep(50);
  const sentAt = new Map(sent);
  const latencies = [];
  let delivered = 0;
  let lost = 0;
  let duplicates = 0;
  for (const phone of phones) {
    const seen = new Set();
    for (const [revision, at] of phone.arrivals) {
      if (seen.has(revision)) duplicates += 1;
      seen.add(revision);
      if (sentAt.has(revision)) {
        delivered += 1;
        latencies.push(at - sentAt.get(revision));
      }
    }
    for (const r of revisions) if (!seen.has(r)) lost += 1;
  }
  return {
    changes: revisions.size,
    expected: revisions.size * phones.length,
    delivered,
    lost,
    duplicates,
    latency: summary(latencies),
    trigger: summary(results),
    heartbeats: phones.reduce((s, p) => s + p.heartbeats, 0),
    message_bytes: messageBytes,
  };
}

async function storm(phones) {
  // 20 scans/s of distinct tickets (plus a few rescans, as at a real door): answer time of each scan, then
  // how long until every connected client shows the final count.
  const codes = cfg.codes;
  const before = cfg.checkedInBefore || 0;
  let ok = 0;
  const answers = await steady(cfg.scans, cfg.rate, async (i) => {
    const rescan = i % 10 === 9; // every tenth scan is a guest scanned twice
    const code = codes[rescan ? i - 1 : i];
    const t0 = performance.now();
    const answer = await request("POST", `/api/v1/events/${cfg.event}/checkins`, {
      code,
      nonce: `bench-${cfg.runId}-${i}`,
    });
    if (answer.result === "ok") ok += 1;
    return [performance.now() - t0, answer.result];
  });
  const lastAnswer = performance.now();
  const target = before + ok;
  const deadline = lastAnswer + (cfg.drainMs || 15000);
  // Converged: every client that shows the counters is at the final count.
  const watchers = phones.filter((p) => p.watcher);
  const converged = () => watchers.every((p) => p.closed || p.checkedIn === target);
  while (!converged() && performance.now() < deadline) await sleep(20);
  const settled = watchers.filter((p) => p.checkedIn === target);
  const lastStats = settled.length ? Math.max(...settled.map((p) => p.statsAt)) : null;
  const results = {};
  for (const [, r] of answers) results[r] = (results[r] || 0) + 1;
  return {
    scans: answers.length,
    results,
    ok,
    expected_count: target,
    clients_converged: settled.length,
    clients: phones.length,
    watchers: watchers.length,
    unwanted_stats: phones.reduce((sum, p) => sum + p.unwantedStats, 0),
    converge_ms: lastStats === null ? null : Math.max(0, lastStats - lastAnswer),
    answer: summary(answers.map(([ms]) => ms)),
  };
}

// One line of JSON from the bench on stdin (it kills and restarts the server in between).
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function fromBench() {
  const { value } = await lines.next();
  return JSON.parse(value);
}

async function until(condition, ms) {
  const deadline = performance.now() + ms;
  while (!condition() && performance.now() < deadline) await sleep(20);
  return condition();
}

async function reconnectStorm(phones) {
  // Every phone reconnects after a close with socket.io's back-off and its last revision as `since`. Either
  // every phone drops its connection at once (drop "client": a Wi-Fi outage, the server stays up) or the
  // bench kills the server and starts it again; then (Treffpunkt) the bench makes one change at once, while
  // the phones are still away, and says its revision. The Node reference keeps no history: its phones reconnect, then get
  // the broadcast they missed. Measured: from the first close to every phone at the current revision.
  for (const p of phones) Object.assign(p, { autoReconnect: true, closedAt: null });
  const dropAt = performance.now();
  if (cfg.drop === "client") for (const p of phones) p.ws.terminate(); // the venue's Wi-Fi gone for everyone
  out({ type: "phase", phase: "drop" });
  const bench = await fromBench();
  const firstClose = cfg.drop === "client" ? dropAt : Math.min(...phones.map((p) => p.closedAt ?? Infinity));
  const back = () => phones.every((p) => p.backAt !== null && !p.reconnecting);
  let target = bench.revision;
  if (target === undefined) {
    await until(back, cfg.drainMs || 60000);
    target = (await request("POST", "/bench/change", { event: cfg.event, payload: cfg.payload })).revision;
  }
  const current = () => phones.every((p) => p.revision !== null && p.revision >= target);
  await until(current, cfg.drainMs || 60000);
  const allCurrent = performance.now();
  const reconnects = phones.filter((p) => p.backAt !== null).map((p) => p.backAt - firstClose);
  return {
    target_revision: target,
    restart_s: bench.restart_s,
    current: phones.filter((p) => p.revision !== null && p.revision >= target).length,
    reconnected: reconnects.length,
    failed_attempts: phones.reduce((s, p) => s + p.attempts, 0),
    all_current_s: current() ? (allCurrent - firstClose) / 1000 : null,
    back: summary(reconnects),
  };
}

async function main() {
  out({ type: "progress", message: `connecting ${cfg.clients} clients to ${cfg.transport === "polling" ? pollUrl : wsUrl}` });
  const { phones, failed, seconds } = await connectAll(cfg.clients);
  const live = phones.filter((p) => p.synced);
  out({ type: "phase", phase: "connected", clients: live.length, failed, connect_s: seconds });
  await sleep(cfg.settleMs ?? 1000); // let connect-time work (stats, catch-up) finish before measuring
  out({ type: "phase", phase: "measuring" });
  await sleep(200);
  const started = performance.now();
  const modes = { storm, fanout, reconnect: reconnectStorm };
  const result = await modes[cfg.mode](live);
  out({ type: "phase", phase: "measured", seconds: (performance.now() - started) / 1000 });
  await sleep(200);
  const closedEarly = live.filter((p) => p.closed).length;
  out({ type: "result", clients: live.length, connect_failed: failed, connect_s: seconds, closed_early: closedEarly, ...result });
  for (const p of phones) p.ws && p.ws.terminate();
  process.exit(0);
}

main().catch((err) => {
  out({ type: "error", message: String(err && err.stack || err) });
  process.exit(1);
});
