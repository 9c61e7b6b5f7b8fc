// What the scanner keeps on the phone, in IndexedDB (it survives reloads, a closed tab, a restarted browser):
//   queue     scans not yet confirmed by the server (key: nonce), sent in scan order by the sync loop
//   lists     the offline guest list of an event (salted hashes, name, municipality, status; key: slug)
//   admitted  guests this phone let in while offline (a second local scan of them is "already")
//   history   the phone's recent results, for the list on the page
// A write resolves only after its transaction completed ("strict" durability where the browser has it),
// so a scan is on disk before its result is shown. Without IndexedDB (very old or locked-down browsers)
// the same interface falls back to localStorage.
const DB_NAME = "treffpunkt-scanner";
const DB_VERSION = 1;
const STORES = { queue: "nonce", lists: "slug", admitted: "nonce", history: "nonce" };

function promise(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

function openDatabase() {
  return new Promise((resolve, reject) => {
    if (!("indexedDB" in globalThis)) return reject(new Error("no IndexedDB"));
    const request = indexedDB.open(DB_NAME, DB_VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const [name, keyPath] of Object.entries(STORES)) {
        if (!db.objectStoreNames.contains(name)) {
          const store = db.createObjectStore(name, { keyPath });
          if (keyPath !== "slug") store.createIndex("slug", "slug");
        }
      }
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error("IndexedDB blocked"));
  });
}

class IdbStore {
  constructor(db) {
    this.db = db;
    this.kind = "indexeddb";
    // Another tab upgraded the database: close ours so it is not blocked (the next write reopens).
    db.onversionchange = () => db.close();
  }

  tx(name, mode) {
    try {
      return this.db.transaction(name, mode, { durability: "strict" });
    } catch {
      return this.db.transaction(name, mode);
    }
  }

  done(tx) {
    return new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error || new Error("transaction aborted"));
    });
  }

  async all(name, slug) {
    const store = this.tx(name, "readonly").objectStore(name);
    if (slug === undefined) return promise(store.getAll());
    if (STORES[name] === "slug") {
      const one = await promise(store.get(slug));
      return one ? [one] : [];
    }
    return promise(store.index("slug").getAll(slug));
  }

  async get(name, key) {
    return (await promise(this.tx(name, "readonly").objectStore(name).get(key))) || null;
  }

  async put(name, ...values) {
    const tx = this.tx(name, "readwrite");
    const store = tx.objectStore(name);
    for (const value of values) store.put(value);
    return this.done(tx);
  }

  async remove(name, keys) {
    if (!keys.length) return;
    const tx = this.tx(name, "readwrite");
    const store = tx.objectStore(name);
    for (const key of keys) store.delete(key);
    return this.done(tx);
  }
}

class LocalStore {
  constructor() {
    this.kind = "localstorage";
    this.memory = {};
  }

  read(name) {
    try {
      return JSON.parse(localStorage.getItem(`${DB_NAME}:${name}`) || "{}");
    } catch {
      return this.memory[name] || {};
    }
  }

  write(name, map) {
    this.memory[name] = map;
    try {
      localStorage.setItem(`${DB_NAME}:${name}`, JSON.stringify(map));
    } catch {
      this.kind = "memory"; // storage full or disabled: keep working, but say so
    }
  }

  async all(name, slug) {
    const values = Object.values(this.read(name));
    return slug === undefined ? values : values.filter((v) => v.slug === slug);
  }

  async get(name, key) {
    return this.read(name)[key] || null;
  }

  async put(name, ...values) {
    const map = this.read(name);
    for (const value of values) map[value[STORES[name]]] = value;
    this.write(name, map);
  }

  async remove(name, keys) {
    const map = this.read(name);
    for (const key of keys) delete map[key];
    this.write(name, map);
  }
}

/** The phone's store: IndexedDB, or localStorage where IndexedDB cannot be opened. */
export async function openScanStore() {
  try {
    const store = new IdbStore(await openDatabase());
    if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
    return store;
  } catch {
    return new LocalStore();
  }
}

/** Count the scans waiting in the queue without creating or upgrading the database. */
async function pendingInDatabase() {
  if (!("indexedDB" in globalThis)) return 0;
  if (typeof indexedDB.databases === "function") {
    try {
      const names = (await indexedDB.databases()).map((d) => d.name);
      if (!names.includes(DB_NAME)) return 0;
    } catch {
      /* unknown: open it and look */
    }
  }
  const db = await new Promise((resolve) => {
    const request = indexedDB.open(DB_NAME);
    // Not there yet: do not create it (aborting the upgrade leaves no database behind).
    request.onupgradeneeded = () => request.transaction.abort();
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
  if (!db) return 0;
  try {
    if (!db.objectStoreNames.contains("queue")) return 0;
    return await promise(db.transaction("queue", "readonly").objectStore("queue").count());
  } catch {
    return 0;
  } finally {
    db.close();
  }
}

function localKeys() {
  const keys = [];
  try {
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (key && (key.startsWith(`${DB_NAME}:`) || key.startsWith("treffpunkt:scanner"))) keys.push(key);
    }
  } catch {
    /* storage disabled */
  }
  return keys;
}

/**
 * Log-out: delete everything the scanner keeps on this device — the IndexedDB database (queue, offline
 * guest list, admitted, history) and its localStorage keys (the fallback store and the camera setting).
 * With {keepPending: true} nothing is deleted while scans still wait to be sent: it resolves
 * {wiped: false, pending: n} so the caller can ask first. Otherwise it resolves {wiped: true, pending}
 * once the database is gone (or, if another tab holds it open, once the deletion is queued: the browser
 * finishes it when that tab closes its connection, which open scanner pages do at once).
 */
export async function wipe({ keepPending = false } = {}) {
  const keys = localKeys();
  let pending = await pendingInDatabase();
  const fallbackQueue = keys.find((key) => key === `${DB_NAME}:queue`);
  if (fallbackQueue) {
    try {
      pending += Object.keys(JSON.parse(localStorage.getItem(fallbackQueue) || "{}")).length;
    } catch {
      /* unreadable: nothing to count */
    }
  }
  if (keepPending && pending > 0) return { wiped: false, pending };
  for (const key of keys) {
    try {
      localStorage.removeItem(key);
    } catch {
      /* storage disabled */
    }
  }
  if ("indexedDB" in globalThis) {
    await new Promise((resolve) => {
      const request = indexedDB.deleteDatabase(DB_NAME);
      request.onsuccess = () => resolve();
      request.onerror = () => resolve();
      request.onblocked = () => resolve();
    });
  }
  return { wiped: true, pending };
}
