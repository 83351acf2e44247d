// The acknowledgement request of a msg frame ("r", docs/link-protocol.md section 7) in the sans-IO
// session of clients/js (as tests/mesh/link_session_ack_request_test.cpp for the C++ one): a
// message somebody waits for (enqueued with `meta`) asks for a prompt ack, and the receiver owes
// it at once instead of after its ack delay; messages that arrive together share one ack; a reply
// carries it; a message nobody waits for is acknowledged at the receiver's own pace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Identity, LinkSession, verifyHello, codec } from '../../clients/js/src/node.js';

const [ia, ib] = await Promise.all([Identity.generate(), Identity.generate()]);

function side(id, peerId, identity, peerIdentity, incarnation) {
  const s = { id, peerId, identity, incarnation, delivered: [], released: [], events: [] };
  s.session = new LinkSession({
    ownId: id,
    peerId,
    incarnation,
    verifyHello: (hello, fp) => verifyHello(hello, peerIdentity.publicKey, peerId, id, fp),
    deliver: (m) => {
      s.delivered.push(m);
      return true;
    },
  });
  return s;
}

let n = 0;
function message(from, to, priority = 'normal') {
  n++;
  return {
    id: `m-${n}`, timestamp: codec.formatTimestamp(Date.now()), level: 2, source: from,
    destination: to, version: '2.1', payload: { n }, sequence_num: n, trace_id: '', priority,
    incarnation: 1,
  };
}

// Two sessions with a link between them; what crosses it is decoded and counted.
class Link {
  static async open(incA = 1, incB = 2) {
    const l = new Link();
    l.a = side('alice', 'bob', ia, ib, incA);
    l.b = side('bob', 'alice', ib, ia, incB);
    await l.connect(l.b);
    return l;
  }

  // Opens a connection to `b` (a new one after close(), or a restarted bob) and lets the hellos
  // (and what they make either side resend) cross.
  async connect(b) {
    this.b = b;
    for (const x of [this.a, b]) x.fp = `FP:${x.id}:${x.incarnation}`;
    for (const [x, y] of [[this.a, b], [b, this.a]])
      x.session.open({
        localFingerprint: x.fp, remoteFingerprint: y.fp, channelFull: () => false,
        helloSignature: await x.identity.signHello(x.id, x.incarnation, x.fp, y.id),
      });
    this.now ??= 0;
    this.msgsToB = [];
    this.acksToA = 0;
    await this.exchange();
    this.channelMessagesToA = 0;
  }

  async exchange() {
    for (let round = 0; round < 100; round++) {
      const toB = this.a.session.takeOutput();
      const toA = this.b.session.takeOutput();
      if (!toB.length && !toA.length) break;
      for (const o of toB) {
        for (const f of codec.decodeText(o.data)) if (f.type === 'msg') this.msgsToB?.push(f);
        await this.b.session.receive(this.now, o.data);
      }
      for (const o of toA) {
        this.channelMessagesToA++;
        for (const f of codec.decodeText(o.data)) if (f.type === 'ack') this.acksToA++;
        await this.a.session.receive(this.now, o.data);
      }
    }
    for (const s of [this.a, this.b])
      for (const e of s.session.takeEvents()) {
        s.events.push(e);
        if (e.type === 'released') s.released.push(...e.entries.map((x) => x.meta));
      }
  }

  // The receiver's timer fires when it is due (as PeerLink runs it).
  async tickDue(hold = false) {
    const due = this.b.session.nextDeadline(hold);
    if (due !== null && due <= this.now) this.b.session.tick(this.now, hold);
    await this.exchange();
  }

  // A message from alice; `awaited`: somebody waits for its acknowledgement (it has meta).
  send(awaited, priority = 'normal') {
    const meta = awaited ? { n: n + 1 } : undefined;
    this.a.session.enqueue(this.now, message('alice', 'bob', priority), 0, meta);
    return meta;
  }
}

test('an awaited message is acknowledged at once', async () => {
  const l = await Link.open();
  const meta = l.send(true);
  await l.exchange();
  assert.equal(l.msgsToB.length, 1);
  assert.equal(l.msgsToB[0].ackRequested, true);
  assert.equal(l.b.delivered.length, 1);
  assert.equal(l.b.session.nextDeadline(), l.now, 'the ack waits instead of being due at once');
  assert.deepEqual(l.a.released, []);
  await l.tickDue();
  assert.equal(l.acksToA, 1);
  assert.deepEqual(l.a.released, [meta]);
  assert.equal(l.a.session.unacknowledged, 0);
});

test('a message nobody waits for is acknowledged later', async () => {
  const l = await Link.open();
  l.send(false);
  await l.exchange();
  assert.equal(l.msgsToB.length, 1);
  assert.equal(l.msgsToB[0].ackRequested, false);
  assert.equal(l.b.session.nextDeadline(), l.now + 5000);
  await l.tickDue();
  assert.equal(l.acksToA, 0);
  assert.equal(l.a.session.unacknowledged, 1);
  l.now += 5000;
  await l.tickDue();
  assert.equal(l.acksToA, 1);
  assert.equal(l.a.session.unacknowledged, 0);
});

test('messages that arrive together share one ack', async () => {
  const l = await Link.open();
  const metas = [];
  for (let i = 0; i < 20; i++) metas.push(l.send(true));
  await l.exchange();
  assert.equal(l.b.delivered.length, 20);
  assert.ok(l.msgsToB.every((m) => m.ackRequested));
  await l.tickDue();
  assert.equal(l.acksToA, 1);
  assert.deepEqual(l.a.released, metas);
});

test('a reply carries the requested ack', async () => {
  const l = await Link.open();
  const meta = l.send(true);
  await l.exchange();
  l.b.session.enqueue(l.now, message('bob', 'alice'), 0); // the application answers in that turn
  await l.exchange();
  assert.deepEqual(l.a.released, [meta]);
  assert.equal(l.acksToA, 0, 'an ack frame went although the reply carried the ack');
  assert.equal(l.channelMessagesToA, 1);
  assert.equal(l.b.session.nextDeadline(), null, 'an ack is still owed');
});

test('each lane is acknowledged', async () => {
  const l = await Link.open();
  const high = l.send(true, 'high');
  const low = l.send(true, 'low');
  await l.exchange();
  await l.tickDue();
  assert.deepEqual(new Set(l.a.released), new Set([high, low]));
});

test('a busy caller holds a requested ack for at most promptAckHold', async () => {
  const l = await Link.open();
  const meta = l.send(true);
  await l.exchange();
  const hold = l.b.session.config.promptAckHold;
  assert.equal(l.b.session.nextDeadline(true), l.now + hold);
  await l.tickDue(true);
  assert.equal(l.acksToA, 0);
  l.now += hold;
  await l.tickDue(true);
  assert.equal(l.acksToA, 1);
  assert.deepEqual(l.a.released, [meta]);
  // A delayed ack (nobody asked) is not held: its deadline is the same either way.
  l.send(false);
  await l.exchange();
  assert.equal(l.b.session.nextDeadline(true), l.b.session.nextDeadline(false));
});

test('a resend that asks is acknowledged promptly while its ack is owed', async () => {
  const l = await Link.open();
  const m = message('alice', 'bob');
  const frame = (r) => codec.encodeMsg(1, 0, 2, 0, codec.serializeIFMessage(m), r);
  await l.b.session.receive(l.now, frame(false));
  assert.equal(l.b.session.nextDeadline(), l.now + 5000);
  // The same message again, now asking (its sender waits and resent it): the ack is due at once,
  // and the duplicate is not delivered twice.
  await l.b.session.receive(l.now, frame(true));
  assert.equal(l.b.delivered.length, 1);
  assert.equal(l.b.session.nextDeadline(), l.now);
  await l.tickDue();
  assert.equal(l.acksToA, 1);
});

test('messages renumbered for a restarted peer keep their request', async () => {
  const l = await Link.open(1, 2);
  const awaited = l.send(true);
  l.send(false);
  await l.exchange();
  assert.equal(l.b.delivered.length, 2);
  // Bob's process dies before acknowledging; a new one (incarnation 3) gets both again,
  // renumbered, the first still asking.
  l.a.session.close();
  const b2 = side('bob', 'alice', ib, ia, 3);
  await l.connect(b2);
  assert.ok(l.a.events.some((e) => e.type === 'peer_restarted'));
  assert.deepEqual(l.msgsToB.map((f) => [f.seq, f.ackRequested]), [[1, true], [2, false]]);
  assert.equal(b2.delivered.length, 2);
  await l.tickDue();
  assert.ok(l.a.released.includes(awaited));
  assert.equal(l.a.session.unacknowledged, 0, 'one ack covers the lane');
});

test('frames with and without the request on the wire', async () => {
  const l = await Link.open();
  l.send(true);
  l.send(false);
  const out = l.a.session.takeOutput().map((o) => o.data);
  assert.equal(out.length, 2);
  assert.match(out[0], /^\{"t":"msg","s":1,"h":0,"r":1,"m":\{/);
  assert.match(out[1], /^\{"t":"msg","s":2,"h":0,"m":\{/);
});

test('after ackEvery messages the ack leaves at once, not with the batch of the turn', async () => {
  const l = await Link.open();
  l.b.session.config.coalesce = true; // as PeerLink runs it: frames of a turn wait for its end
  l.b.session.enqueue(l.now, message('bob', 'alice'), 0); // something already gathered
  for (let i = 0; i < 64; i++) l.send(false);
  await l.exchange(); // no tick: the turn is not over
  assert.equal(l.acksToA, 1);
  assert.equal(l.a.session.unacknowledged, 0);
  assert.equal(l.a.delivered.length, 1, 'what the batch gathered went first');
});
