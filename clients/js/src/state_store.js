// An agent's state store (docs/durability.md): its incarnation and identity key, the end-to-end
// sequence numbers,
// the replay window, and per link the counters and every accepted, unacknowledged message. It
// keeps them in memory and in a journal of JSON lines with group commit: what changes during
// one turn of the event loop is written together after the turn, and a commit is durable once
// the journal says so. The journal is a backend with four calls (file_journal.js in Node.js,
// indexeddb_journal.js in a browser):
//   load() -> Promise<string>     everything written so far ('' for a new store)
//   append(text) -> Promise       writes text after it; resolves once it is durable
//   replace(text) -> Promise      atomically replaces all of it; resolves once durable
//   close() -> Promise
//
// Records are one JSON object per line; a commit ends with {"t":"c"}. Loading applies only
// complete commits: a commit cut short by a crash was never reported durable, so nothing sent
// or acknowledged depends on it. Every record is checked before it is applied.
import { LANES } from './codec.js';

const COMMIT = '{"t":"c"}\n';
// The journal is rewritten as one snapshot once it is this much larger than the last one.
const COMPACT_MIN_BYTES = 8 * 1024 * 1024;
const COMPACT_FACTOR = 4;

const isCount = (v) => Number.isSafeInteger(v) && v >= 0;
const isCounts = (v) => Array.isArray(v) && v.length === LANES && v.every(isCount);
const isLane = (v) => Number.isInteger(v) && v >= 0 && v < LANES;
const isName = (v) => typeof v === 'string' && v.length > 0 && v.length <= 256;

function afterTurn(fn) {
  if (typeof setImmediate === 'function') setImmediate(fn);
  else setTimeout(fn, 0);
}

class StoredLink {
  constructor() {
    this.incarnation = 0; // the peer's
    this.delivered = [0, 0, 0, 0];
    this.acked = [0, 0, 0, 0]; // the last link sequence the peer acknowledged, per lane
    this.outbox = Array.from({ length: LANES }, () => []); // {k, h, m}, oldest first
    this.counters = null; // the live link's counters, read at each commit
  }
  get empty() {
    return (
      this.incarnation === 0 &&
      this.delivered.every((d) => d === 0) &&
      this.outbox.every((l) => l.length === 0)
    );
  }
}

export class StateStore {
  static async open(journal) {
    const store = new StateStore(journal);
    store.#apply(await journal.load());
    return store;
  }

  constructor(journal) {
    this.journal = journal;
    this.incarnation = 0;
    this.identityPem = null; // PKCS #8 PEM of the Ed25519 key the agent generated
    this.sequences = new Map(); // `${destination}\n${lane}` -> last sequence_num
    this.replay = new Map(); // source -> {incarnation, highest[4], newest}: the ReplayGuard's own
    this.links = new Map(); // peer -> StoredLink
    this.nextKey = 1;
    this.records = []; // lines of the next commit, in order
    this.dirtySequences = new Set();
    this.dirtyReplay = new Set();
    this.dirtyLinks = new Set();
    this.written = 0; // commits handed to the journal
    this.durable = 0; // commits the journal reported durable
    this.scheduled = false;
    this.inFlight = false;
    this.failed = null;
    this.journalBytes = 0;
    this.snapshotBytes = 0;
    this.listeners = new Set(); // fn(commit) when commits up to `commit` are durable
    this.waiters = []; // {commit, resolve, reject}
    this.closed = false;
  }

  // ---- loading ----

  #apply(text) {
    this.journalBytes = text.length;
    this.snapshotBytes = text.length;
    let pending = [];
    let lineNo = 0;
    let start = 0;
    for (;;) {
      const end = text.indexOf('\n', start);
      if (end < 0) break; // a line the crash cut short: never part of a complete commit
      lineNo++;
      const line = text.slice(start, end);
      start = end + 1;
      let r;
      try {
        r = JSON.parse(line);
      } catch {
        r = null;
      }
      if (!r || typeof r !== 'object' || Array.isArray(r))
        throw new Error(`state journal: line ${lineNo} is not a record`);
      if (r.t === 'c') {
        for (const p of pending) this.#applyRecord(p.r, p.lineNo);
        pending = [];
      } else {
        pending.push({ r, lineNo });
      }
    }
  }

  #link(peer) {
    let l = this.links.get(peer);
    if (!l) this.links.set(peer, (l = new StoredLink()));
    return l;
  }

  #applyRecord(r, lineNo) {
    const bad = () => {
      throw new Error(`state journal: bad ${String(r.t).slice(0, 16)} record at line ${lineNo}`);
    };
    switch (r.t) {
      case 'inc':
        if (!isCount(r.v) || r.v === 0) bad();
        this.incarnation = r.v;
        break;
      case 'key':
        if (typeof r.v !== 'string' || r.v.length > 1024) bad();
        this.identityPem = r.v;
        break;
      case 'seq':
        if (!isName(r.k) || !isCount(r.v)) bad();
        this.sequences.set(r.k, r.v);
        break;
      case 'rp':
        if (!isName(r.s)) bad();
        if (r.gone === true) {
          this.replay.delete(r.s);
          break;
        }
        if (!isCount(r.i) || !isCounts(r.h) || typeof r.n !== 'number' || !Number.isFinite(r.n)) bad();
        this.replay.set(r.s, { incarnation: r.i, highest: r.h, newest: r.n });
        break;
      case 'link': {
        if (!isName(r.p) || !isCount(r.i) || !isCounts(r.d) || !isCounts(r.a)) bad();
        const l = this.#link(r.p);
        l.incarnation = r.i;
        l.delivered = r.d;
        l.acked = r.a;
        break;
      }
      case 'out': {
        if (!isName(r.p) || !isLane(r.l) || !isCount(r.k) || !isCount(r.h) || typeof r.m !== 'string')
          bad();
        this.#link(r.p).outbox[r.l].push({ k: r.k, h: r.h, m: r.m });
        this.nextKey = Math.max(this.nextKey, r.k + 1);
        break;
      }
      case 'rel': {
        if (!isName(r.p) || !isLane(r.l) || !isCount(r.k)) bad();
        this.#release(this.#link(r.p), r.l, r.k);
        break;
      }
      case 'drop':
        if (!isName(r.p)) bad();
        for (const lane of this.#link(r.p).outbox) lane.length = 0;
        break;
      default:
        bad();
    }
  }

  #release(link, lane, key) {
    const out = link.outbox[lane];
    let n = 0;
    while (n < out.length && out[n].k <= key) n++;
    out.splice(0, n);
  }

  // ---- what the agent and its links write ----

  // The incarnation kept, or `fresh` stored as it when the store is new.
  keepIncarnation(fresh) {
    if (this.incarnation === 0) {
      this.incarnation = fresh;
      this.#record({ t: 'inc', v: fresh });
    }
    return this.incarnation;
  }

  // Keeps the agent's generated identity key (PEM) with its state: stored messages carry its
  // signatures.
  keepIdentity(pem) {
    this.identityPem = pem;
    this.#record({ t: 'key', v: pem });
  }

  sequenceChanged(key) {
    this.dirtySequences.add(key);
    this.changed();
  }

  replayChanged(source) {
    this.dirtyReplay.add(source);
    this.changed();
  }

  // Peers the store holds a link for.
  storedPeers() {
    return [...this.links.entries()].filter(([, l]) => !l.empty).map(([p]) => p);
  }

  // The store's view for one link. `counters()` gives the link's current {incarnation,
  // delivered[4], acked[4]}; it is read when a commit is written. `restored`: what the store
  // held for the link when it was opened ({incarnation, delivered, acked, outbox: per lane
  // [{key, hops, json}]}), or null.
  link(peer, counters) {
    const stored = this.links.get(peer);
    const restored = stored && !stored.empty
      ? {
          incarnation: stored.incarnation,
          delivered: [...stored.delivered],
          acked: [...stored.acked],
          outbox: stored.outbox.map((lane) => lane.map((e) => ({ key: e.k, hops: e.h, json: e.m }))),
        }
      : null;
    const l = this.#link(peer);
    l.counters = counters;
    const store = this;
    return {
      restored,
      get durable() {
        return store.durable;
      },
      // The commit that holds what is written now.
      commitOf() {
        store.changed();
        return store.written + 1;
      },
      add(lane, hops, json) {
        const e = { k: store.nextKey++, h: hops, m: json };
        l.outbox[lane].push(e);
        store.#write(store.#outRecord(peer, lane, e));
        return { key: e.k, commit: store.written + 1 };
      },
      release(lane, key) {
        store.#release(l, lane, key);
        store.#record({ t: 'rel', p: peer, l: lane, k: key });
      },
      drop() {
        for (const lane of l.outbox) lane.length = 0;
        store.#record({ t: 'drop', p: peer });
      },
      countersChanged() {
        store.dirtyLinks.add(peer);
        store.changed();
      },
    };
  }

  #record(r) {
    this.#write(JSON.stringify(r));
  }

  #write(line) {
    this.records.push(line);
    this.changed();
  }

  // ---- commits ----

  changed() {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    afterTurn(() => {
      this.scheduled = false;
      this.commit();
    });
  }

  get hasWrites() {
    return this.records.length > 0 || this.dirtySequences.size || this.dirtyReplay.size || this.dirtyLinks.size;
  }

  // Hands what changed to the journal as one commit; while one is being written, the next
  // waits for it (and takes everything written meanwhile).
  commit() {
    if (this.inFlight || this.failed || !this.hasWrites) return;
    this.#flushCounters();
    const n = ++this.written;
    let text = this.records.length ? this.records.join('\n') + '\n' + COMMIT : COMMIT;
    this.records = [];
    let write;
    const grown = this.journalBytes + text.length;
    if (grown > COMPACT_MIN_BYTES && grown > COMPACT_FACTOR * this.snapshotBytes) {
      text = this.#snapshot();
      this.snapshotBytes = this.journalBytes = text.length;
      write = this.journal.replace(text);
    } else {
      this.journalBytes = grown;
      write = this.journal.append(text);
    }
    this.inFlight = true;
    write.then(
      () => {
        this.inFlight = false;
        this.durable = n;
        for (const fn of [...this.listeners]) fn(n);
        this.waiters = this.waiters.filter((w) => (w.commit <= n ? (w.resolve(), false) : true));
        if (this.hasWrites) this.commit();
      },
      (e) => {
        this.inFlight = false;
        this.failed = e;
        for (const w of this.waiters.splice(0)) w.reject(e);
        this.onFailure?.(e);
      },
    );
  }

  // The dirty counters as records, after the outbox records of this commit.
  #flushCounters() {
    for (const key of this.dirtySequences) this.records.push(this.#sequenceRecord(key));
    for (const source of this.dirtyReplay) this.records.push(this.#replayRecord(source));
    for (const peer of this.dirtyLinks) {
      const l = this.links.get(peer);
      this.#readCounters(l);
      this.records.push(this.#linkRecord(peer, l));
    }
    this.dirtySequences.clear();
    this.dirtyReplay.clear();
    this.dirtyLinks.clear();
  }

  #readCounters(l) {
    if (!l.counters) return;
    const c = l.counters();
    l.incarnation = c.incarnation;
    l.delivered = [...c.delivered];
    l.acked = [...c.acked];
  }

  #sequenceRecord(key) {
    return JSON.stringify({ t: 'seq', k: key, v: this.sequences.get(key) ?? 0 });
  }

  #outRecord(peer, lane, e) {
    return JSON.stringify({ t: 'out', p: peer, l: lane, k: e.k, h: e.h, m: e.m });
  }

  #replayRecord(source) {
    const s = this.replay.get(source);
    if (!s) return JSON.stringify({ t: 'rp', s: source, gone: true });
    return JSON.stringify({ t: 'rp', s: source, i: s.incarnation, h: s.highest, n: s.newest });
  }

  #linkRecord(peer, l) {
    return JSON.stringify({ t: 'link', p: peer, i: l.incarnation, d: l.delivered, a: l.acked });
  }

  // Everything the store holds, as one commit.
  #snapshot() {
    const lines = [];
    if (this.incarnation) lines.push(JSON.stringify({ t: 'inc', v: this.incarnation }));
    if (this.identityPem) lines.push(JSON.stringify({ t: 'key', v: this.identityPem }));
    for (const key of this.sequences.keys()) lines.push(this.#sequenceRecord(key));
    for (const source of this.replay.keys()) lines.push(this.#replayRecord(source));
    for (const [peer, l] of this.links) {
      this.#readCounters(l);
      lines.push(this.#linkRecord(peer, l));
      for (let lane = 0; lane < LANES; lane++)
        for (const e of l.outbox[lane]) lines.push(this.#outRecord(peer, lane, e));
    }
    return lines.join('\n') + '\n' + COMMIT;
  }

  onDurable(fn) {
    this.listeners.add(fn);
  }

  // Resolves once everything written so far is durable.
  whenDurable() {
    if (this.failed) return Promise.reject(this.failed);
    const target = this.hasWrites ? this.written + 1 : this.written;
    if (this.durable >= target) return Promise.resolve();
    if (this.hasWrites) this.changed();
    return new Promise((resolve, reject) => this.waiters.push({ commit: target, resolve, reject }));
  }

  // Commits what is left, waits for it, and closes the journal.
  async close() {
    if (this.closed) return;
    try {
      if (!this.failed) await this.whenDurable();
    } finally {
      this.closed = true;
      await this.journal.close();
    }
  }
}
