// The sans-IO link session (clients/js/src/session.js) between two ends through a pipe that
// drops, duplicates and reorders channel messages, across reconnections and a restart: every
// message is delivered exactly once and in order per lane. Hellos are signed and verified with
// real Ed25519 keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity, LinkSession, verifyHello, codec } from '../../clients/js/src/node.js';

// A deterministic PRNG, so a failure reproduces (seed printed by the assertion messages).
function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let nextInc = 1000;
async function end(id, peerId, identity, peerIdentity) {
  const e = { id, peerId, identity, delivered: [], events: [] };
  e.incarnation = ++nextInc;
  e.session = new LinkSession({
    ownId: id,
    peerId,
    incarnation: e.incarnation,
    verifyHello: (hello, fp) => verifyHello(hello, peerIdentity.publicKey, peerId, id, fp),
    deliver: (m) => {
      e.delivered.push(m);
      return true;
    },
  });
  return e;
}

let seqs = {};
function message(from, to, priority, n) {
  const key = `${from}>${to}:${priority}`;
  seqs[key] = (seqs[key] ?? 0) + 1;
  return {
    id: `${from}-${n}`, timestamp: codec.formatTimestamp(Date.now()), level: 2, source: from,
    destination: to, version: '2.1', payload: { n }, sequence_num: seqs[key], trace_id: '',
    priority, incarnation: 1,
  };
}

async function open(a, b, maxChannelMessage = 0) {
  const fa = `FA:${a.incarnation}`;
  const fb = `FB:${b.incarnation}`;
  a.session.open({ localFingerprint: fa, remoteFingerprint: fb, channelFull: () => false,
    maxChannelMessage,
    helloSignature: await a.identity.signHello(a.id, a.incarnation, fa, b.id) });
  b.session.open({ localFingerprint: fb, remoteFingerprint: fa, channelFull: () => false,
    helloSignature: await b.identity.signHello(b.id, b.incarnation, fb, a.id) });
}

// Moves channel messages both ways until both ends are quiet; `lossy` drops 10 %, duplicates
// 5 % and swaps neighbours 10 % of the time.
async function run(a, b, now, random, lossy) {
  for (let round = 0; round < 1000; round++) {
    let moved = 0;
    for (const [from, to] of [[a, b], [b, a]]) {
      let out = from.session.takeOutput().map((o) => o.data);
      from.events.push(...from.session.takeEvents());
      if (lossy) {
        out = out.flatMap((f) => (random() < 0.1 ? [] : random() < 0.05 ? [f, f] : [f]));
        for (let i = 0; i + 1 < out.length; i++)
          if (random() < 0.1) [out[i], out[i + 1]] = [out[i + 1], out[i]];
      }
      for (const f of out) await to.session.receive(now, f);
      moved += out.length;
    }
    if (!moved) {
      a.events.push(...a.session.takeEvents());
      b.events.push(...b.session.takeEvents());
      return;
    }
  }
  throw new Error('the ends never went quiet');
}

const byLane = (list) => {
  const lanes = { control: [], high: [], normal: [], low: [] };
  for (const m of list) lanes[m.priority].push(m.payload.n);
  return lanes;
};

test('lossy, duplicating, reordering pipe and reconnections: exactly once, in order', async () => {
  const ia = await Identity.generate();
  const ib = await Identity.generate();
  for (const seed of [1, 2, 3]) {
    seqs = {};
    const random = rng(seed);
    const a = await end('agent-a', 'agent-b', ia, ib);
    const b = await end('agent-b', 'agent-a', ib, ia);
    const sentA = [];
    const sentB = [];
    let now = 0;
    let n = 0;
    const prios = ['control', 'high', 'normal', 'low'];
    for (let connection = 0; connection < 8; connection++) {
      await open(a, b);
      for (let i = 0; i < 40; i++) {
        const pa = prios[Math.floor(random() * 4)];
        const pb = prios[Math.floor(random() * 4)];
        const ma = message('agent-a', 'agent-b', pa, ++n);
        const mb = message('agent-b', 'agent-a', pb, ++n);
        a.session.enqueue(now, ma, 0);
        b.session.enqueue(now, mb, 0);
        sentA.push(ma);
        sentB.push(mb);
        if (random() < 0.3) await run(a, b, now, random, true);
        now += 100;
        a.session.tick(now);
        b.session.tick(now);
      }
      await run(a, b, now, random, true);
      a.session.close();
      b.session.close();
    }
    // A last clean connection resends what is still unacknowledged.
    await open(a, b);
    await run(a, b, now, random, false);
    now += 6000; // the 5 s acknowledgement timer
    a.session.tick(now);
    b.session.tick(now);
    await run(a, b, now, random, false);
    assert.deepEqual(byLane(b.delivered), byLane(sentA), `seed ${seed}: a to b`);
    assert.deepEqual(byLane(a.delivered), byLane(sentB), `seed ${seed}: b to a`);
    assert.equal(a.session.unacknowledged, 0, `seed ${seed}: a holds nothing`);
    assert.equal(b.session.unacknowledged, 0, `seed ${seed}: b holds nothing`);
    // A dropped or overtaken hello leaves frames before the proof: rejected, resent later.
    const rejected = [...a.events, ...b.events].filter(
      (e) => e.type === 'auth_failed' || (e.type === 'rejected' && e.reason !== 'unauthenticated_link'));
    assert.deepEqual(rejected, []);
    assert.ok(a.events.some((e) => e.type === 'released'));
  }
});

test('a restarted peer gets the unacknowledged messages renumbered from 1', async () => {
  seqs = {};
  const ia = await Identity.generate();
  const ib = await Identity.generate();
  const a = await end('agent-a', 'agent-b', ia, ib);
  const b1 = await end('agent-b', 'agent-a', ib, ia);
  await open(a, b1);
  await run(a, b1, 0, null, false);
  for (let i = 1; i <= 5; i++) a.session.enqueue(0, message('agent-a', 'agent-b', 'normal', i), 0);
  await run(a, b1, 0, null, false);
  assert.equal(b1.delivered.length, 5);
  // b1 acknowledged nothing yet (the 5 s timer); its process dies with the link.
  a.session.close();
  for (let i = 6; i <= 8; i++) a.session.enqueue(0, message('agent-a', 'agent-b', 'normal', i), 0);
  const b2 = await end('agent-b', 'agent-a', ib, ia);
  await open(a, b2);
  await run(a, b2, 0, null, false);
  const restart = a.events.find((e) => e.type === 'peer_restarted');
  assert.ok(restart, 'the new incarnation is seen as a restart');
  assert.equal(restart.unacknowledged, 8);
  assert.deepEqual(b2.delivered.map((m) => m.payload.n), [1, 2, 3, 4, 5, 6, 7, 8]);
  a.session.tick(0);
  b2.session.tick(10000);
  await run(a, b2, 10000, null, false);
  assert.equal(a.session.unacknowledged, 0);
});

test('a hello that fails verification refuses the connection', async () => {
  const ia = await Identity.generate();
  const ib = await Identity.generate();
  const impostor = await Identity.generate();
  const a = await end('agent-a', 'agent-b', ia, ib);
  const b = await end('agent-b', 'agent-a', impostor, ia); // signs with a key a does not expect
  await open(a, b);
  b.session.enqueue(0, message('agent-b', 'agent-a', 'normal', 1), 0);
  await run(a, b, 0, null, false);
  assert.deepEqual(a.events.filter((e) => e.type === 'auth_failed').map((e) => e.reason), ['bad_signature']);
  assert.equal(a.delivered.length, 0);
});

test('the hello announces zstd only when the session has a decoder', () => {
  const hello = (decompress) => {
    const s = new LinkSession({
      ownId: 'alice',
      peerId: 'bob',
      incarnation: 5,
      verifyHello: () => null,
      deliver: () => true,
      decompress,
    });
    s.open({ localFingerprint: 'AA:01', remoteFingerprint: 'BB:02', helloSignature: 'c2ln' });
    const out = s.takeOutput();
    assert.equal(out.length, 1);
    return out[0].data;
  };
  assert.ok(!hello(undefined).includes('"compress"'), hello(undefined));
  assert.ok(hello(() => new Uint8Array()).includes('"compress":["zstd"]'));
  const decoded = codec.decodeText(hello(() => new Uint8Array()));
  assert.equal(decoded[0].readsZstd, true);
});

test('coalesce: every batch fits the channel, in UTF-8 bytes and with its wrapper', async () => {
  const ia = await Identity.generate();
  const ib = await Identity.generate();
  const utf8 = new TextEncoder();
  for (const [limit, text] of [[65536, 'x'], [65536, 'é'], [16384, '€']]) {
    for (let extra = 0; extra < 24; extra++) {
      const a = await end('la', 'lb', ia, ib);
      const b = await end('lb', 'la', ib, ia);
      a.session.config.coalesce = true;
      await open(a, b, limit);
      await run(a, b, 0, Math.random, false); // the hellos
      for (let n = 1; n <= 120; n++) {
        const m = message('la', 'lb', 'normal', n);
        m.payload = { n, text: text.repeat(400 + extra) };
        a.session.enqueue(0, m);
      }
      a.session.tick(0);
      for (const o of a.session.takeOutput()) {
        assert.ok(utf8.encode(o.data).length <= limit, `${utf8.encode(o.data).length} > ${limit}`);
        await b.session.receive(0, o.data);
      }
      assert.equal(b.delivered.length, 120);
    }
  }
});

test('coalesce: the Normal frames of one turn leave as one batch when due, urgent ones at once', async () => {
  const ia = await Identity.generate();
  const ib = await Identity.generate();
  const a = await end('ca', 'cb', ia, ib);
  const b = await end('cb', 'ca', ib, ia);
  a.session.config.coalesce = true;
  await open(a, b);
  await run(a, b, 0, Math.random, false); // the hellos
  for (let n = 1; n <= 5; n++) a.session.enqueue(0, message('ca', 'cb', 'normal', n));
  a.session.enqueue(0, message('ca', 'cb', 'high', 6));
  const urgent = a.session.takeOutput();
  assert.equal(urgent.length, 1); // the High message, alone and at once
  assert.equal(JSON.parse(urgent[0].data).l, 1);
  assert.equal(a.session.nextDeadline(), 0); // the gathered frames are due at once
  a.session.tick(0);
  const out = a.session.takeOutput();
  assert.equal(out.length, 1);
  const batch = JSON.parse(out[0].data);
  assert.equal(batch.t, 'batch');
  assert.deepEqual(batch.f.map((f) => f.m.payload.n), [1, 2, 3, 4, 5]);
  assert.ok(a.session.takeEvents().some((e) => e.type === 'batch_sent' && e.coalesced));
  await b.session.receive(0, urgent[0].data);
  await b.session.receive(0, out[0].data);
  assert.deepEqual(b.delivered.map((m) => m.payload.n), [6, 1, 2, 3, 4, 5]);
});
