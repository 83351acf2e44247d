// The JS agent's state store (clients/js/src/state_store.js) without a network: what a journal
// holds comes back after a reload, a commit cut short is ignored, a bad record is refused with
// a clear error, compaction keeps the state, and a link session with a store sends a message
// only once it is durable, acknowledges only durable deliveries, and after a restart resends
// its stored messages with the link sequences they had. The file journal on a real directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileJournal, Identity, LinkSession, StateStore, codec, verifyHello } from '../../clients/js/src/node.js';

// A journal in memory whose writes complete when the test says so.
class MemoryJournal {
  constructor(text = '') {
    this.text = text;
    this.pending = [];
    this.replaced = 0;
    this.auto = true;
  }
  async load() {
    return this.text;
  }
  #later(apply) {
    return new Promise((resolve) => {
      const done = () => {
        apply();
        resolve();
      };
      if (this.auto) queueMicrotask(done);
      else this.pending.push(done);
    });
  }
  append(t) {
    return this.#later(() => (this.text += t));
  }
  replace(t) {
    this.replaced++;
    return this.#later(() => (this.text = t));
  }
  complete() {
    for (const done of this.pending.splice(0)) done();
  }
  async close() {}
}

const turn = () => new Promise((r) => setImmediate(r));

test('a reloaded journal holds the incarnation, key, sequences, replay window, counters and outbox', async () => {
  const j = new MemoryJournal();
  const s = await StateStore.open(j);
  assert.equal(s.keepIncarnation(77), 77);
  s.keepIdentity('-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
  s.sequences.set('bob\n2', 5);
  s.sequenceChanged('bob\n2');
  s.replay.set('carol', { incarnation: 9, highest: [0, 1, 2, 3], newest: 1234 });
  s.replayChanged('carol');
  const counters = { incarnation: 42, delivered: [0, 0, 7, 0], acked: [0, 0, 3, 0] };
  const bob = s.link('bob', () => counters);
  assert.equal(bob.restored, null);
  for (const m of ['m4', 'm5', 'm6']) bob.add(2, 0, JSON.stringify({ id: m }));
  bob.countersChanged();
  await s.whenDurable();
  bob.release(2, 1); // m4 acknowledged
  counters.acked = [0, 0, 4, 0];
  bob.countersChanged();
  await s.whenDurable();

  const r = await StateStore.open(new MemoryJournal(j.text));
  assert.equal(r.keepIncarnation(99), 77);
  assert.match(r.identityPem, /BEGIN PRIVATE KEY/);
  assert.equal(r.sequences.get('bob\n2'), 5);
  assert.deepEqual(r.replay.get('carol'), { incarnation: 9, highest: [0, 1, 2, 3], newest: 1234 });
  assert.deepEqual(r.storedPeers(), ['bob']);
  const restored = r.link('bob', () => counters).restored;
  assert.equal(restored.incarnation, 42);
  assert.deepEqual(restored.delivered, [0, 0, 7, 0]);
  assert.deepEqual(restored.acked, [0, 0, 4, 0]);
  assert.deepEqual(restored.outbox[2].map((e) => JSON.parse(e.json).id), ['m5', 'm6']);
});

test('a commit cut short is ignored; a bad record is refused with its line', async () => {
  const j = new MemoryJournal();
  const s = await StateStore.open(j);
  s.keepIncarnation(5);
  await s.whenDurable();
  const whole = j.text;
  const torn = `${whole}{"t":"seq","k":"x\\n0","v":3}\n{"t":"se`;
  const r = await StateStore.open(new MemoryJournal(torn));
  assert.equal(r.incarnation, 5);
  assert.equal(r.sequences.size, 0, 'the unfinished commit is not applied');
  await assert.rejects(StateStore.open(new MemoryJournal(`${whole}{"t":"out","p":"a","l":9,"k":1,"h":0,"m":""}\n{"t":"c"}\n`)),
    /bad out record at line 3/);
  await assert.rejects(StateStore.open(new MemoryJournal(`${whole}[1,2]\n`)), /line 3 is not a record/);
  await assert.rejects(StateStore.open(new MemoryJournal(`{"t":"inc","v":-1}\n{"t":"c"}\n`)), /bad inc record/);
});

test('compaction rewrites the journal as one snapshot that reloads to the same state', async () => {
  const j = new MemoryJournal();
  const s = await StateStore.open(j);
  s.keepIncarnation(3);
  const link = s.link('p', () => ({ incarnation: 1, delivered: [0, 0, 0, 0], acked: [0, 0, 0, 0] }));
  const pad = 'x'.repeat(4000);
  let key = 0;
  for (let i = 0; i < 4000; i++) {
    key = link.add(2, 0, JSON.stringify({ id: `m${i}`, pad })).key;
    if (key > 400) link.release(2, key - 400); // the peer acknowledges all but the last 400
    if (i % 100 === 99) await s.whenDurable();
  }
  await s.whenDurable();
  assert.ok(j.replaced > 0, 'the journal was compacted');
  assert.ok(j.text.length < 8 * 1024 * 1024 * 2);
  const r = await StateStore.open(new MemoryJournal(j.text));
  const ids = r.link('p', null).restored.outbox[2].map((e) => JSON.parse(e.json).id);
  assert.deepEqual(ids, Array.from({ length: 400 }, (_, k) => `m${3600 + k}`));
});

function message(from, to, n) {
  return {
    id: `${from}-${n}`, timestamp: codec.formatTimestamp(Date.now()), level: 2, source: from,
    destination: to, version: '2.1', payload: { n }, sequence_num: n, trace_id: '',
    priority: 'normal', incarnation: 1,
  };
}

async function durableEnd(id, peerId, identity, peerIdentity, journal, incarnation) {
  const store = await StateStore.open(journal);
  const e = { id, peerId, identity, store, delivered: [], incarnation: store.keepIncarnation(incarnation) };
  const session = new LinkSession({
    ownId: id, peerId, incarnation: e.incarnation,
    verifyHello: (hello, fp) => verifyHello(hello, peerIdentity.publicKey, peerId, id, fp),
    deliver: (m) => (e.delivered.push(m.payload.n), true),
    store: store.link(peerId, () => session.storedCounters()),
  });
  if (session.store.restored) session.restore(session.store.restored);
  store.onDurable((c) => session.durable(0, c));
  e.session = session;
  return e;
}

async function openBoth(a, b) {
  const hello = async (x, y) => x.session.open({ localFingerprint: `F${x.id}`, remoteFingerprint: `F${y.id}`,
    channelFull: () => false, helloSignature: await x.identity.signHello(x.id, x.incarnation, `F${x.id}`, y.id) });
  await hello(a, b);
  await hello(b, a);
}

const frames = (out) => out.flatMap((o) => codec.decodeText(o.data)).flatMap((f) => (f.type === 'batch' ? f.frames : [f]));

async function exchange(a, b) {
  for (let i = 0; i < 50; i++) {
    await turn();
    a.session.tick(Number.MAX_SAFE_INTEGER);
    b.session.tick(Number.MAX_SAFE_INTEGER);
    const ab = a.session.takeOutput();
    const ba = b.session.takeOutput();
    if (!ab.length && !ba.length && !a.store.scheduled && !b.store.scheduled) return;
    for (const o of ab) await b.session.receive(0, o.data);
    for (const o of ba) await a.session.receive(0, o.data);
  }
}

test('a session with a store: sends only durable messages, acknowledges only durable deliveries', async () => {
  const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()]);
  const ja = new MemoryJournal();
  const jb = new MemoryJournal();
  const a = await durableEnd('a', 'b', ia, ib, ja, 11);
  const b = await durableEnd('b', 'a', ib, ia, jb, 22);
  await openBoth(a, b);
  await exchange(a, b);
  assert.ok(a.session.ready && b.session.ready);

  ja.auto = jb.auto = false;
  a.session.enqueue(0, message('a', 'b', 1));
  assert.deepEqual(frames(a.session.takeOutput()), [], 'not on the wire before its commit is durable');
  await turn(); // the commit is written, not yet durable
  assert.deepEqual(frames(a.session.takeOutput()), []);
  ja.complete();
  await turn();
  const out = a.session.takeOutput();
  assert.deepEqual(frames(out).map((f) => f.type), ['msg']);

  for (const o of out) await b.session.receive(0, o.data);
  assert.deepEqual(b.delivered, [1]);
  b.session.tick(Number.MAX_SAFE_INTEGER);
  assert.deepEqual(frames(b.session.takeOutput()), [], 'no acknowledgement before the delivery is durable');
  await turn();
  jb.complete();
  await turn();
  b.session.tick(Number.MAX_SAFE_INTEGER);
  const acks = frames(b.session.takeOutput());
  assert.deepEqual(acks.map((f) => [f.type, f.seq]), [['ack', 1]]);
  ja.auto = jb.auto = true;
});

test('restarted from its store, a sender resends with the link sequences the messages had', async () => {
  const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()]);
  const ja = new MemoryJournal();
  const a = await durableEnd('a', 'b', ia, ib, ja, 11);
  const b = await durableEnd('b', 'a', ib, ia, new MemoryJournal(), 22);
  await openBoth(a, b);
  await exchange(a, b);
  for (let n = 1; n <= 5; n++) a.session.enqueue(0, message('a', 'b', n));
  await a.store.whenDurable();
  await turn();
  // Messages 1-3 reach b and are acknowledged; 4-5 are lost with the connection.
  const sent = frames(a.session.takeOutput()).filter((f) => f.type === 'msg');
  assert.deepEqual(sent.map((f) => f.seq), [1, 2, 3, 4, 5]);
  for (const n of [1, 2, 3])
    await b.session.receive(0, codec.encodeMsg(n, 0, 2, 0, codec.serializeIFMessage(sent[n - 1].message), false));
  await exchange(a, b);
  assert.deepEqual(b.delivered, [1, 2, 3]);
  assert.equal(a.session.unacknowledged, 2);

  // a is killed and started again from what its journal holds.
  b.session.close();
  const a2 = await durableEnd('a', 'b', ia, ib, new MemoryJournal(ja.text), 999);
  assert.equal(a2.incarnation, 11, 'the same incarnation');
  assert.equal(a2.session.unacknowledged, 2);
  await openBoth(a2, b);
  await exchange(a2, b);
  assert.deepEqual(b.delivered, [1, 2, 3, 4, 5], 'each once, in order');
  assert.equal(a2.session.unacknowledged, 0);
});

test('the file journal: survives a reopen, refuses a second owner, takes over a dead one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ifmesh-store-'));
  try {
    const s = await StateStore.open(new FileJournal(dir));
    s.keepIncarnation(1234);
    await assert.rejects(new FileJournal(dir).load(), /in use by process/);
    await s.close();
    // A lock left by a process that is gone (a killed agent) is taken over.
    writeFileSync(join(dir, 'lock'), '999999999\n');
    const r = await StateStore.open(new FileJournal(dir));
    assert.equal(r.incarnation, 1234);
    assert.match(readFileSync(join(dir, 'journal.jsonl'), 'utf8'), /"t":"inc","v":1234/);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a peer restored from an older copy of its store: the loss is reported, the lane goes on', async () => {
  const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()]);
  const a = await durableEnd('a', 'b', ia, ib, new MemoryJournal(), 11);
  const jb = new MemoryJournal();
  const b = await durableEnd('b', 'a', ib, ia, jb, 22);
  const events = [];
  await openBoth(a, b);
  await exchange(a, b);
  a.session.enqueue(0, message('a', 'b', 1));
  await exchange(a, b);
  const olderCopy = jb.text; // b's store after delivering 1
  for (let n = 2; n <= 3; n++) a.session.enqueue(0, message('a', 'b', n));
  await exchange(a, b);
  assert.deepEqual(b.delivered, [1, 2, 3]);
  assert.equal(a.session.unacknowledged, 0);
  events.push(...a.session.takeEvents());

  // b comes back from the older copy: same incarnation, delivered 1 in the normal lane.
  a.session.close();
  const b2 = await durableEnd('b', 'a', ib, ia, new MemoryJournal(olderCopy), 999);
  assert.equal(b2.incarnation, 22);
  for (let n = 4; n <= 5; n++) a.session.enqueue(0, message('a', 'b', n));
  await openBoth(a, b2);
  await exchange(a, b2);
  const lost = [...events, ...a.session.takeEvents()].filter((e) => e.type === 'peer_state_regressed');
  assert.deepEqual(lost.map((e) => [e.lane, e.lost]), [[2, 2]]);
  // 4 and 5 follow b's count (as 2 and 3) and are delivered; 2 and 3 are gone with its copy.
  assert.deepEqual(b2.delivered, [4, 5]);
  assert.equal(a.session.unacknowledged, 0);
});
