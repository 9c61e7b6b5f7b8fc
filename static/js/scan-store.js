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
