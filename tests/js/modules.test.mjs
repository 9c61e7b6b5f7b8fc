// The module graph of static/js/ as a whole: templates/_modules.html preloads exactly what each entry module
// imports (directly or through other modules), no file is longer than 450 lines, no helper is defined twice,
// nothing refers to the removed render.js, and the shared modules import in Node without a DOM.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const STATIC = path.join(ROOT, "static");
const TEMPLATES = path.join(ROOT, "templates");
const MAX_LINES = 450;

const jsFiles = readdirSync(path.join(STATIC, "js")).filter((f) => f.endsWith(".js")).sort();
const sources = new Map(jsFiles.map((f) => [`js/${f}`, readFileSync(path.join(STATIC, "js", f), "utf8")]));
// The service worker runs in its own global scope and is no module of the pages.
const pageModules = [...sources.keys()].filter((f) => f !== "js/sw.js");

function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? walk(path.join(dir, d.name)) : [path.join(dir, d.name)]);
}
const templates = new Map(walk(TEMPLATES).filter((f) => f.endsWith(".html"))
  .map((f) => [path.relative(TEMPLATES, f), readFileSync(f, "utf8")]));

/** The files a module imports (paths relative to static/, like url_for's filename). */
function importsOf(file) {
  const text = sources.get(file);
  const found = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s+(?:[\w$*{}\s,]*?\s+from\s+)?["']([^"']+)["']/gm)) {
    const spec = m[1];
    if (spec.startsWith("./")) found.push(`js/${spec.slice(2)}`);
    else if (spec.startsWith("/static/")) found.push(spec.slice("/static/".length));
    else assert.fail(`${file}: import of ${spec} (only ./x.js and /static/… are served)`);
  }
  return found;
}

/** Everything `entry` imports, directly or through other modules. */
function closure(entry) {
  const seen = new Set();
  const visit = (file) => {
    for (const dep of sources.has(file) ? importsOf(file) : []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      visit(dep);
    }
  };
  visit(entry);
  return seen;
}

/** IMPORTS of templates/_modules.html: {entry: [files]}. */
function preloadTable() {
  const text = templates.get("_modules.html");
  const block = text.match(/\{%-?\s*set IMPORTS = \{([\s\S]*?)\}\s*-?%\}/);
  assert.ok(block, "_modules.html sets IMPORTS");
  const table = {};
  for (const m of block[1].matchAll(/"([^"]+)":\s*\(([^)]*)\)/g)) {
    table[m[1]] = [...m[2].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
  }
  return table;
}

const imported = new Set(pageModules.flatMap((f) => importsOf(f)));

describe("preloads", () => {
  const table = preloadTable();

  test("every module import resolves to a file", () => {
    for (const file of pageModules) {
      for (const dep of importsOf(file)) assert.ok(existsSync(path.join(STATIC, dep)), `${file} imports missing ${dep}`);
    }
  });

  test("no dynamic import() (it would escape the preload lists)", () => {
    for (const file of pageModules) assert.doesNotMatch(sources.get(file), /\bimport\s*\(/, file);
  });

  test("IMPORTS lists, per entry module, exactly what it imports transitively", () => {
    assert.ok(Object.keys(table).length >= 7, "the table was read");
    for (const [entry, listed] of Object.entries(table)) {
      assert.ok(sources.has(entry), `${entry} exists`);
      assert.equal(new Set(listed).size, listed.length, `${entry}: a file listed twice`);
      assert.deepEqual([...listed].sort(), [...closure(entry)].sort(), `preloads of ${entry}`);
    }
  });

  test("every template that loads an entry module with imports preloads all of them", () => {
    const checked = [];
    for (const [name, text] of templates) {
      if (name === "_modules.html") continue;
      // Through the macros of _modules.html: the entry must be in IMPORTS (its `extra` files come on top).
      for (const m of text.matchAll(/\b(?:live_)?module\(\s*"([^"]+)"/g)) {
        const needed = closure(m[1]);
        if (needed.size) assert.ok(table[m[1]], `${name}: ${m[1]} has imports but no IMPORTS entry`);
        checked.push(`${name}:${m[1]}`);
      }
      // By hand: a <script type="module"> needs its modulepreload links next to it.
      for (const m of text.matchAll(/<script type="module" src="\{\{ url_for\('static', filename='([^']+)'\) \}\}"/g)) {
        for (const dep of closure(m[1])) {
          assert.ok(text.includes(`filename='${dep}'`) || text.includes(`filename="${dep}"`), `${name}: ${m[1]} needs a preload of ${dep}`);
        }
        checked.push(`${name}:${m[1]}`);
      }
    }
    for (const page of ["checkin/scan.html:js/scanner.js", "checkin/dashboard.html:js/dashboard.js",
                        "matchmaking/delegate.html:js/delegate.js", "checkin/ticket.html:js/ticket.js",
                        "agenda/agenda.html:js/agenda.js", "matchmaking/board.html:js/board.js"]) {
      assert.ok(checked.includes(page.split("/").join(path.sep)), `${page} was checked`);
    }
  });

  test("templates name only files that exist; nothing refers to render.js any more", () => {
    for (const [name, text] of templates) {
      for (const m of text.matchAll(/["']((?:js|vendor)\/[^"']+\.js)["']/g)) {
        assert.ok(existsSync(path.join(STATIC, m[1])), `${name} names missing ${m[1]}`);
      }
      assert.doesNotMatch(text, /render\.js/, name);
    }
    for (const [file, text] of sources) assert.doesNotMatch(text, /render\.js/, file);
    assert.equal(existsSync(path.join(STATIC, "js", "render.js")), false);
  });
});

test(`no file in static/js is longer than ${MAX_LINES} lines`, () => {
  for (const [file, text] of sources) {
    const lines = text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
    assert.ok(lines <= MAX_LINES, `${file}: ${lines} lines`);
  }
});

// ---- helpers defined once ----------------------------------------------------------------------------

/** The end of the bracketed text opening at `start` ((, { or [), or -1. */
function matching(text, start) {
  const open = text[start];
  const close = { "(": ")", "{": "}", "[": "]" }[open];
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    if (text[i] === open) depth++;
    else if (text[i] === close && --depth === 0) return i;
  }
  return -1;
}

/** Every named function in a file (declarations and arrow functions / function expressions bound to a
 * const or let, at any depth): {name, file, exported, topLevel, body}. */
function definitions(file) {
  const text = sources.get(file);
  const found = [];
  const declaration = /^([ \t]*)(export\s+)?(?:async\s+)?function\*?\s*([A-Za-z_$][\w$]*)\s*\(/gm;
  const bound = /^([ \t]*)(export\s+)?(?:const|let|var)\s+([A-Za-z_$][\w$]*)\s*=\s*(?:async\s+)?(?:function\b[^(]*\(|(\([^)]*\)|[A-Za-z_$][\w$]*)\s*=>)/gm;
  for (const re of [declaration, bound]) {
    for (const m of text.matchAll(re)) {
      let end;
      const after = m.index + m[0].length;
      const arrow = m[0].trimEnd().endsWith("=>");
      if (arrow) {
        let i = after;
        while (/\s/.test(text[i])) i++;
        if (text[i] === "{") end = matching(text, i);
        else {
          // An expression body: up to the ";" (or the line end) outside brackets.
          let depth = 0;
          for (end = i; end < text.length; end++) {
            const c = text[end];
            if ("([{".includes(c)) depth++;
            else if (")]}".includes(c)) depth--;
            if (depth < 0 || (depth === 0 && (c === ";" || c === "\n"))) break;
          }
        }
      } else {
        const params = matching(text, after - 1);
        const brace = text.indexOf("{", params);
        end = matching(text, brace);
      }
      const body = text.slice(m.index + m[0].length - (arrow ? 0 : 1), end + 1).replace(/\/\/.*$/gm, "").replace(/\s+/g, "");
      found.push({ name: m[3], file, exported: !!m[2], topLevel: m[1] === "", body });
    }
  }
  return found;
}

describe("no helper is defined twice", () => {
  const all = pageModules.flatMap(definitions);

  test("the definitions were found", () => {
    const names = new Set(all.map((d) => d.name));
    for (const name of ["esc", "setText", "setHTML", "keepAwake", "makeT", "uuid", "parseScan", "byPlannedStart",
                        "byExpectedStart", "readJSON", "request", "submitScan", "startCamera"]) {
      assert.ok(names.has(name), name);
    }
    assert.ok(all.length > 150, `${all.length} definitions`);
  });

  test("a name of a shared module (one other modules import) or an exported one lives in one file only", () => {
    const byName = new Map();
    for (const d of all) byName.set(d.name, [...(byName.get(d.name) || []), d]);
    const problems = [];
    for (const [name, defs] of byName) {
      const files = new Set(defs.map((d) => d.file));
      if (files.size < 2) continue;
      if (defs.some((d) => d.exported || imported.has(d.file))) problems.push(`${name}: ${[...files].join(", ")}`);
    }
    assert.deepEqual(problems, []);
  });

  test("the well-known helpers are defined exactly once", () => {
    for (const name of ["$", "esc", "setText", "setHTML", "keepAwake", "t", "makeT", "fill", "uuid", "readJSON",
                        "byStart", "byPlannedStart", "byExpectedStart", "ms", "placeChildren", "loadJSON", "saveJSON",
                        "parseScan", "hashOf", "announce", "sha256Hex"]) {
      const defs = all.filter((d) => d.name === name);
      assert.ok(defs.length <= 1, `${name}: ${defs.map((d) => d.file).join(", ")}`);
    }
  });

  test("no two functions have the same body (a copy under another name)", () => {
    const byBody = new Map();
    for (const d of all) {
      if (d.body.length < 40) continue; // one-liners like (el) => el.hidden = true
      byBody.set(d.body, [...(byBody.get(d.body) || []), `${d.file}:${d.name}`]);
    }
    const copies = [...byBody.values()].filter((list) => list.length > 1);
    assert.deepEqual(copies, []);
  });
});

test("the shared modules import without a DOM (their pure functions are testable in Node)", async () => {
  assert.equal(typeof globalThis.document, "undefined");
  // live.js imports the vendored Socket.IO client by its URL (/static/…), which only the browser resolves.
  const nodeable = (f) => f.startsWith("js/") && [...closure(f)].every((dep) => dep.startsWith("js/"));
  const files = [...imported].filter(nodeable);
  assert.ok(files.length >= 15, files.join(", "));
  for (const file of files) {
    const mod = await import(pathToFileURL(path.join(STATIC, file)).href);
    assert.ok(Object.keys(mod).length > 0, `${file} exports something`);
  }
});
