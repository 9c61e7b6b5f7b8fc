// sha256.js (the SHA-256 for phones on plain http, where crypto.subtle is missing) and the offline list's
// hashes (scan-list.js hashOf: the first 32 hex digits of SHA-256("<salt>:<value>")).
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";

import { hashOf } from "../../static/js/scan-list.js";
import { sha256Bytes, sha256Hex, sha256HexLocal } from "../../static/js/sha256.js";

const nodeSha = (text) => createHash("sha256").update(text, "utf8").digest("hex");

describe("sha256HexLocal", () => {
  test("the FIPS 180-4 test vectors", () => {
    assert.equal(sha256HexLocal(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.equal(sha256HexLocal("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.equal(sha256HexLocal("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  });

  test("agrees with Node's SHA-256 around the padding boundaries and for UTF-8", () => {
    for (const n of [1, 54, 55, 56, 57, 63, 64, 65, 119, 120, 128, 1000]) {
      const text = "x".repeat(n);
      assert.equal(sha256HexLocal(text), nodeSha(text), `length ${n}`);
    }
    for (const text of ["ä€", "ä€".repeat(70), "0f3a:ABCDEFGH", "Kaiserslautern 🎉"]) {
      assert.equal(sha256HexLocal(text), nodeSha(text), text);
    }
  });

  test("sha256Bytes gives 32 bytes", () => {
    const out = sha256Bytes(new Uint8Array([0x61, 0x62, 0x63]));
    assert.equal(out.length, 32);
    assert.equal(out[0], 0xba);
    assert.equal(out[31], 0xad);
  });

  test("sha256Hex (crypto.subtle where there is one) gives the same", async () => {
    for (const text of ["", "abc", "salt:ABCDEFGH"]) assert.equal(await sha256Hex(text), sha256HexLocal(text));
  });
});

describe("the offline list's hashes", () => {
  test("hashOf is the first 32 hex digits of SHA-256(salt:value), as the server makes them", async () => {
    const salt = "5f2c9a";
    assert.equal(await hashOf(salt, "AB3DEF7H"), nodeSha(`${salt}:AB3DEF7H`).slice(0, 32));
    assert.equal((await hashOf(salt, "AB3DEF7H")).length, 32);
    assert.notEqual(await hashOf(salt, "AB3DEF7H"), await hashOf("other", "AB3DEF7H"), "the salt matters");
  });
});
