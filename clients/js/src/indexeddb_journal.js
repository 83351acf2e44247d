// The state store's journal in a browser (state_store.js): one IndexedDB database per agent,
// `ifmesh-state:<name>`, whose object store holds the journal's chunks in order. A commit is one
// readwrite transaction with strict durability (flushed to disk before it completes); a
// compaction clears and writes the snapshot in one transaction. A Web Lock of the same name
// keeps a second tab from opening the same store while the first has it.
const STORE = 'journal';

function request(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

export class IndexedDbJournal {
  constructor(name) {
    if (typeof name !== 'string' || !name) throw new TypeError('IndexedDbJournal needs a name');
    this.name = `ifmesh-state:${name}`;
    this.db = null;
    this.unlock = null;
  }

  async #lock() {
    const locks = globalThis.navigator?.locks;
    if (!locks) return;
    await new Promise((granted, refused) => {
      locks
        .request(this.name, { ifAvailable: true }, (lock) => {
          if (!lock) {
            refused(new Error(`state store ${this.name} is in use by another page`));
            return undefined;
          }
          granted();
          return new Promise((release) => (this.unlock = release));
        })
        .catch(refused);
    });
  }

  async load() {
    const idb = globalThis.indexedDB;
    if (!idb) throw new Error('IndexedDB is not available');
    await this.#lock();
    const open = idb.open(this.name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(STORE, { autoIncrement: true });
    this.db = await request(open);
    const tx = this.db.transaction(STORE, 'readonly');
    const chunks = await request(tx.objectStore(STORE).getAll());
    return chunks.join('');
  }

  #write(fn) {
    return new Promise((resolve, reject) => {
      const tx = this.db.transaction(STORE, 'readwrite', { durability: 'strict' });
      fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error ?? new Error('state store transaction aborted'));
    });
  }

  append(text) {
    return this.#write((s) => s.add(text));
  }

  replace(text) {
    return this.#write((s) => {
      s.clear();
      s.add(text);
    });
  }

  async close() {
    this.db?.close();
    this.db = null;
    this.unlock?.();
    this.unlock = null;
  }
}
