// What the door scanner reads and how a result looks: the text of a scan as the server reads it (a ticket
// URL's or a bare token, a typed 8-character code, or a badge's "TPB-" check-in code), the nonces that make every scan exactly-once, and the
// colour of a result. Pure: no DOM, importable without a browser.

const CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
const TOKEN_IN_URL = /\/t\/([A-Za-z0-9_-]{20,64})(?:[/?#]|$)/;
const TOKEN_ALONE = /^[A-Za-z0-9_-]{40,64}$/;
const BADGE_MARK = "TPB"; // a badge's QR: "TPB-" + 10 symbols (webapp/checkin/service.py badge_code_of)
const BADGE_LENGTH = 10;
const GOOD = new Set(["ok"]);
const WARN = new Set(["already", "unverified", "undone"]);

const inAlphabet = (code) => [...code].every((c) => CODE_ALPHABET.includes(c));

/** What a scanned text names, as the server reads it: {kind: "t", value: token} for a ticket URL or a bare
 * token, {kind: "c", value: "AB3DEF7H"} for a typed code, {kind: "b", value: "AB3DEF7HJK"} for a badge's
 * check-in code ("TPB-AB3DEF7HJK"), else null. Spaces, dashes and case do not matter in codes. */
export function parseScan(text) {
  const value = String(text || "").trim();
  const match = TOKEN_IN_URL.exec(value);
  const code = value.replace(/[\s-]/g, "").toUpperCase();
  const badge = code.startsWith(BADGE_MARK) ? code.slice(BADGE_MARK.length) : "";
  if (value.length <= 40 && badge.length === BADGE_LENGTH && inAlphabet(badge)) return { kind: "b", value: badge };
  const token = match ? match[1] : TOKEN_ALONE.test(value) ? value : null;
  if (token) return { kind: "t", value: token };
  if (code.length === 8 && inAlphabet(code)) return { kind: "c", value: code };
  return null;
}

/** A v4 UUID; crypto.randomUUID exists on secure origins only, getRandomValues everywhere. */
export function uuid() {
  if (globalThis.crypto && typeof crypto.randomUUID === "function") {
    try {
      return crypto.randomUUID();
    } catch {
      /* not a secure context */
    }
  }
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** The colour of a result: "good" (let in), "warn" (look twice: already in, not checkable, undone), "bad". */
export const resultTone = (result) => (GOOD.has(result) ? "good" : WARN.has(result) ? "warn" : "bad");
