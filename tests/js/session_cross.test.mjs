// One script of connection steps and channel messages through the C++ link session
// (session_driver, over src/mesh/link_session) and through the JavaScript one
// (clients/js/src/session.js): after every step both sent the same frames in the same order
// (how many channel messages carry them is the sender's choice: frames that leave together may
// share a batch), reported the same events and delivered the same messages. This side is agent-b; agent-a's frames are made here,
// its hellos signed with the key of the document's test vector 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Identity, LinkSession, codec, verifyHello } from '../../clients/js/src/node.js';

const DRIVER = process.env.IFMESH_SESSION_DRIVER;
const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const hex = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)));
const FP_A = 'AA:01';

function message(id, { lane = 2, source = 'agent-a', n = 1 } = {}) {
  return codec.serializeIFMessage({
    id, timestamp: '2026-01-02T03:04:05.678Z', level: 2, source, destination: 'agent-b',
    version: '2.1', payload: { n }, sequence_num: n, priority: codec.PRIORITIES[lane],
  });
}
const msg = (s, id, { lane = 2, a = 0, r = false, h = 0, source } = {}) =>
  codec.encodeMsg(s, h, lane, a, message(id, { lane, source, n: s }), r);

async function script() {
  const key = await Identity.import({ seed: hex(SEED) });
  const hello = async (inc, lanes, peer) => {
    const h = {
      t: 'hello', v: 1, recv: lanes[2], lanes, inc, fp: FP_A,
      sig: await key.signHello('agent-a', inc, FP_A, 'agent-b'),
    };
    if (peer !== undefined) h.peer = peer;
    return JSON.stringify(h);
  };
  const recv = (ms, text) => ['recv', ms, text];
  return [
    ['open', FP_A],
    recv(0, msg(1, 'early')), // before the hello: refused
    recv(1, await hello(500, [0, 0, 0, 0])),
    recv(2, msg(1, 'm1')),
    recv(3, msg(2, 'm2', { r: true })), // asks: acknowledged at once
    recv(4, msg(4, 'm4')), // a gap: a hello asks for a resend
    recv(5, msg(3, 'm3')),
    recv(6, msg(4, 'm4')),
    recv(7, msg(3, 'm3')), // a duplicate
    recv(8, msg(5, 'spoof', { source: 'agent-x' })),
    recv(9, msg(1, 'h1', { lane: 1, r: true })),
    recv(10, msg(1, 'c1', { lane: 0 })),
    ['send', 11, 2, 1, 'b1'],
    ['send', 12, 2, 0, 'b2'],
    ['send', 13, 3, 1, 'b3'],
    recv(14, '{"t":"ack","seq":1}'),
    recv(15, `{"t":"batch","f":[${msg(5, 'm5', { r: true })},{"t":"ack","seq":2},${msg(2, 'h2', { lane: 1 })}]}`),
    recv(16, msg(6, 'm6', { r: 1, a: 1, lane: 2 })),
    recv(17, msg(1, 'l1', { lane: 3, a: 1 })),
    ['tick', 5016],
    recv(5017, msg(7, 'fwd', { h: 2, source: 'agent-z' })),
    recv(5018, '{"t":"msg","s":8,"r":-1,"m":{}}'),
    recv(5019, msg(8, 'm8', { r: true })),
    ['send', 5020, 1, 1, 'b4'],
    ['close'],
    ['send', 5021, 2, 1, 'b5'],
    ['open', FP_A],
    recv(5022, await hello(500, [1, 0, 8, 1], 77)), // acknowledges some of ours; the rest again
    recv(5023, '{"l":3,"seq":1,"t":"ack"}'),
    ['tick', 10100],
    // agent-a restarts: a new incarnation, which knows nothing of ours yet.
    ['close'],
    ['open', FP_A],
    recv(10101, await hello(600, [0, 0, 0, 0])),
    recv(10102, msg(1, 'n1', { r: true })),
    ['tick', 20000],
    ['close'],
    ['open', 'FF:FF'], // a fingerprint the hello does not match
    recv(20001, await hello(600, [0, 0, 0, 0], 77)),
    recv(20002, msg(2, 'n2')),
  ];
}

async function runJs(steps) {
  const key = (await Identity.import({ seed: hex(SEED) })).publicKey;
  let delivered = [];
  const s = new LinkSession({
    ownId: 'agent-b',
    peerId: 'agent-a',
    incarnation: 77,
    verifyHello: (hello, fp) => verifyHello(hello, key, 'agent-a', 'agent-b', fp),
    deliver: (m, hops, lane) => {
      delivered.push([m.id, hops, lane]);
      return true;
    },
  });
  let now = 0;
  const report = [];
  for (const [step, ...args] of steps) {
    if (step === 'open')
      s.open({ localFingerprint: 'BB:02', helloSignature: 'c2ln', remoteFingerprint: args[0], channelFull: () => false });
    else if (step === 'close') s.close();
    else if (step === 'recv') {
      now = args[0];
      await s.receive(now, args[1]);
    } else if (step === 'send') {
      const [ms, lane, awaited, id] = args;
      now = ms;
      s.enqueue(now, {
        id, timestamp: '2026-01-02T03:04:05.678Z', level: 2, source: 'agent-b', destination: 'agent-a',
        version: '2.1', payload: { id }, sequence_num: 1, priority: codec.PRIORITIES[lane],
      }, 0, awaited ? {} : undefined);
    } else if (step === 'tick') {
      now = args[0];
      s.tick(now);
    }
    const due = s.nextDeadline();
    if (due !== null && due <= now) s.tick(now);
    const events = s.takeEvents().map((e) => {
      switch (e.type) {
        case 'rejected':
          return { type: e.type, reason: e.reason, messageId: e.messageId };
        case 'auth_failed':
          return { type: e.type, reason: e.reason };
        case 'released':
          return { type: e.type, messages: e.messages };
        case 'peer_restarted':
          return { type: e.type, unacknowledged: e.unacknowledged, waiting: e.waiting, deliveredFromOld: e.deliveredFromOld };
        case 'batch_sent':
          return { type: e.type, frames: e.frames };
        default:
          return { type: e.type };
      }
    });
    report.push({ out: s.takeOutput().map((o) => o.data), events, delivered });
    delivered = [];
  }
  return report;
}

// A channel message as the frames it holds, each by its fields (key order and the hello's
// zstd announcement aside: the JS session announces zstd only with a decoder).
function frames(text) {
  return codec.decodeText(text).map((f) => {
    if (f.type === 'msg') return { ...f, message: f.message.id };
    if (f.type === 'hello') return { ...f, readsZstd: undefined };
    return f;
  });
}

test('the C++ and the JavaScript session answer one script alike', { skip: !DRIVER && 'IFMESH_SESSION_DRIVER not set' }, async () => {
  const steps = await script();
  const input = steps.map(([step, ...args]) =>
    step === 'recv' ? `recv ${args[0]} ${Buffer.from(args[1]).toString('hex')}` : [step, ...args].join(' ')).join('\n');
  const run = spawnSync(DRIVER, { input: `${input}\n` });
  assert.equal(run.status, 0, String(run.stderr));
  const cpp = String(run.stdout).trim().split('\n').map((l) => JSON.parse(l));
  const js = await runJs(steps);
  assert.equal(cpp.length, steps.length);
  const differ = [];
  steps.forEach((step, i) => {
    const c = { ...cpp[i], out: cpp[i].out.flatMap(frames) };
    const j = { ...js[i], out: js[i].out.flatMap(frames) };
    try {
      assert.deepEqual(j, c);
    } catch {
      differ.push(`step ${i} ${step.join(' ').slice(0, 100)}\n  C++: ${JSON.stringify(c)}\n  JS:  ${JSON.stringify(j)}`);
    }
  });
  const delivered = cpp.reduce((n, s) => n + s.delivered.length, 0);
  console.log(`session cross-check: ${steps.length} steps, ${delivered} deliveries, ${differ.length} steps differ`);
  assert.deepEqual(differ, []);
});
