// scan-code.js: what a scanned or typed text names (as the server reads it), the scan nonces and the
// colour of a result.
import assert from "node:assert/strict";
import { describe, test } from "node:test";

import { parseScan, resultTone, uuid } from "../../static/js/scan-code.js";

const TOKEN = "q3Zb8x_K-2mNpR7tVw9yA1cD4eF6gH0jLsUoXiYzQkE"; // secrets.token_urlsafe(32): 43 characters

describe("parseScan", () => {
  test("a ticket URL gives its token, with or without a path, query or fragment after it", () => {
    for (const text of [
      `https://treffpunkt.example/t/${TOKEN}`,
      `http://10.0.0.5:8000/t/${TOKEN}/board`,
      `https://treffpunkt.example/t/${TOKEN}?lang=en`,
      `https://treffpunkt.example/t/${TOKEN}#qr`,
      `  /t/${TOKEN}\n`, // a hardware scanner's trailing newline
    ]) {
      assert.deepEqual(parseScan(text), { kind: "t", value: TOKEN }, text);
    }
  });

  test("a bare token (40 to 64 URL-safe characters) is a token", () => {
    assert.deepEqual(parseScan(TOKEN), { kind: "t", value: TOKEN });
    assert.deepEqual(parseScan(` ${TOKEN} `), { kind: "t", value: TOKEN });
  });

  test("a typed code: spaces, dashes and lower case do not matter", () => {
    assert.deepEqual(parseScan("AB3DEF7H"), { kind: "c", value: "AB3DEF7H" });
    assert.deepEqual(parseScan("ab3d ef7h"), { kind: "c", value: "AB3DEF7H" });
    assert.deepEqual(parseScan("  ab3d-EF7h  "), { kind: "c", value: "AB3DEF7H" });
    assert.deepEqual(parseScan("A B 3 D E F 7 H"), { kind: "c", value: "AB3DEF7H" });
  });

  test("garbage is null", () => {
    for (const text of [
      "", "   ", null, undefined, "hello", "AB3DEF7", "AB3DEF7HJ", // too short, too long
      "AB0DEF7H", "AB1DEF7H", "ABIDEF7H", "ABODEF7H", "ABLDEF7H", // 0 1 I O L are not in the alphabet
      "AB3D/EF7H", "https://treffpunkt.example/t/short", "https://example.org/ticket", "x".repeat(39),
      `https://treffpunkt.example/x${TOKEN}`, // a token must follow /t/
    ]) {
      assert.equal(parseScan(text), null, String(text));
    }
  });

  test("a URL's token wins over the text looking like anything else", () => {
    assert.deepEqual(parseScan(`AB3DEF7H /t/${TOKEN}`), { kind: "t", value: TOKEN });
  });

  test("a badge's check-in code (as webapp/checkin/service.py badge_code_of reads it)", () => {
    for (const text of ["TPB-AB3DEF7HJK", "tpb-ab3d ef7h jk", " TPB AB3DEF7HJK\n", "TPBAB3DEF7HJK"]) {
      assert.deepEqual(parseScan(text), { kind: "b", value: "AB3DEF7HJK" }, text);
    }
    for (const text of ["TPB-AB3DEF7HJ", "TPB-AB3DEF7HJKM", "TPB-AB0DEF7HJK", "AB3DEF7HJK", "XPB-AB3DEF7HJK"]) {
      assert.equal(parseScan(text), null, text);
    }
  });
});

describe("uuid", () => {
  test("v4 format and no repeats", () => {
    const seen = new Set();
    for (let i = 0; i < 200; i++) {
      const id = uuid();
      assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      seen.add(id);
    }
    assert.equal(seen.size, 200);
  });

  test("without crypto.randomUUID (plain http), getRandomValues makes a v4 UUID too", () => {
    const original = crypto.randomUUID;
    try {
      Object.defineProperty(crypto, "randomUUID", { value: undefined, configurable: true, writable: true });
      assert.equal(typeof crypto.randomUUID, "undefined");
      assert.match(uuid(), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    } finally {
      Object.defineProperty(crypto, "randomUUID", { value: original, configurable: true, writable: true });
    }
  });
});

test("resultTone: green for ok, orange for a second look, red for the rest", () => {
  assert.equal(resultTone("ok"), "good");
  for (const r of ["already", "unverified", "undone"]) assert.equal(resultTone(r), "warn", r);
  for (const r of ["unknown", "cancelled", "waiting", "wrong_event", "invalid", "error", "unauthorized"]) assert.equal(resultTone(r), "bad", r);
});
