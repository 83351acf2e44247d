// A Node.js agent of clients/js and a C++ `ifmesh agent` through a real coturn (Debian's
// `turnserver`), loopback only (run_js_interop.sh puts it all in a network namespace with only
// `lo`): relay only from the first attempt (on the offering and on the answering side), and the
// fallback to TURN after failed direct attempts when the direct path between the two agents is
// blocked.
//
// Addresses, all on lo: the signaling server and coturn listen on 127.0.0.1, coturn relays from
// 127.0.0.2 (a TURN server's relayed address is never a client's own, so its permissions tell a
// relayed peer from the client's host socket), the Node agent gathers on 127.0.0.4 and the C++
// agent on 127.0.0.5. The fallback tests block UDP between 127.0.0.4 and 127.0.0.5 with
// blackhole routing rules in the namespace, which the test removes again.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import dgram from 'node:dgram';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Agent } from '../../clients/js/src/node.js';
import { CLI, Child, LOOPBACK, readJsonLines, sleep, startSignal, tempDir, waitFor } from './support.mjs';

const RELAY_IP = '127.0.0.2';
const NODE_IP = '127.0.0.4';
const CPP_IP = '127.0.0.5';
const USER = 'ifmesh';
const PASSWORD = `pw-${process.pid}-${Date.now()}`;
const COUNT = 20;

const tmp = tempDir();
const children = [];
const agents = [];
let blocked = false;

after(async () => {
  for (const a of agents) await a.close();
  for (const c of children.reverse()) await c.kill();
  if (blocked) unblockDirect();
  tmp.remove();
});

// A loopback port free for UDP and TCP alike (coturn listens on both).
async function freePort() {
  for (let i = 0; i < 50; i++) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, LOOPBACK, () => resolve(udp.address().port));
    });
    const ok = await new Promise((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, LOOPBACK, () => srv.close(() => resolve(true)));
    });
    udp.close();
    if (ok) return port;
  }
  throw new Error('no free loopback port');
}

// One STUN Binding request (RFC 5389): true when the server answers with a success response.
function answersStun(port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0);
    req.writeUInt32BE(0x2112a442, 4);
    for (let i = 8; i < 20; i++) req[i] = (i * 13) & 0xff;
    const done = (v) => {
      clearTimeout(timer);
      s.close();
      resolve(v);
    };
    const timer = setTimeout(() => done(false), 100);
    s.on('message', (m) => done(m.length >= 20 && m[0] === 0x01 && m[1] === 0x01));
    s.on('error', () => done(false));
    s.send(req, port, LOOPBACK);
  });
}

// coturn with long-term credentials, listening on 127.0.0.1 and relaying from RELAY_IP; stopped
// by its PID in `after`. The flags are those of src/bench/coturn_process.cpp.
async function startCoturn() {
  const port = await freePort();
  const base = 20000 + Math.floor(Math.random() * 400) * 100;
  const conf = join(tmp.dir, 'turnserver.conf');
  writeFileSync(
    conf,
    [
      'listening-ip=127.0.0.1',
      `relay-ip=${RELAY_IP}`,
      `listening-port=${port}`,
      `min-port=${base}`,
      `max-port=${base + 99}`,
      'realm=ifmesh.test',
      'lt-cred-mech',
      'fingerprint',
      `user=${USER}:${PASSWORD}`,
      'no-tls', 'no-dtls', 'no-cli', 'no-tcp-relay', 'allow-loopback-peers',
      'no-multicast-peers', 'no-rfc5780', 'no-stun-backward-compatibility',
      `pidfile=${join(tmp.dir, 'turnserver.pid')}`,
      `log-file=${join(tmp.dir, 'turnserver.log')}`,
      'simple-log',
      '',
    ].join('\n'),
  );
  const c = new Child('turnserver', '/usr/bin/turnserver', ['-c', conf]);
  children.push(c);
  await waitFor('coturn to answer STUN', async () => {
    if (c.exited) throw new Error(`turnserver exited: ${JSON.stringify(c.exited)}\n${c.out}`);
    return answersStun(port);
  }, 10000);
  c.url = `turn:127.0.0.1:${port}?transport=udp`;
  return c;
}

// ---- blocking the direct path ----

function ip(...args) {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// Only in a namespace of its own with nothing but `lo` (run_js_interop.sh makes one): the routing
// rules change for everything in it.
function inPrivateNamespace() {
  try {
    const name = execFileSync('ip', ['netns', 'identify'], { encoding: 'utf8' }).trim();
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).trim().split('\n');
    return name !== '' && links.length === 1 && /^\d+: lo:/.test(links[0]);
  } catch {
    return false;
  }
}

// UDP between the agents' addresses is refused (sendto fails); everything else, the TURN server
// and its relayed addresses included, is routed as before. The rules must come before the
// lookup of the local table, which is moved from preference 0 to 100 for that.
function blockDirect() {
  if (blocked) return;
  ip('rule', 'add', 'pref', '100', 'lookup', 'local');
  ip('rule', 'del', 'pref', '0');
  blocked = true;
  ip('rule', 'add', 'pref', '10', 'from', NODE_IP, 'to', CPP_IP, 'ipproto', 'udp', 'blackhole');
  ip('rule', 'add', 'pref', '11', 'from', CPP_IP, 'to', NODE_IP, 'ipproto', 'udp', 'blackhole');
}

function unblockDirect() {
  if (!blocked) return;
  for (const pref of ['10', '11']) {
    try {
      ip('rule', 'del', 'pref', pref);
    } catch {
      // not added
    }
  }
  ip('rule', 'add', 'pref', '0', 'lookup', 'local');
  ip('rule', 'del', 'pref', '100');
  blocked = false;
}

// ---- agents ----

let signal;
let coturn;
async function freshSetup() {
  for (const a of agents.splice(0)) await a.close();
  // coturn stays; the signaling server and agents are per test.
  for (const c of children.splice(1).reverse()) await c.kill();
  signal = await startSignal();
  children.push(signal);
}

async function nodeAgent(id, healing) {
  const a = new Agent({
    id,
    signalingUrl: signal.url,
    localAddress: NODE_IP,
    iceServers: [{ urls: coturn.url, username: USER, credential: PASSWORD }],
    healing,
  });
  agents.push(a);
  a.received = [];
  a.events = [];
  a.on('message', (m) => a.received.push(m));
  a.on('witness', (w) => a.events.push(w));
  await a.start();
  return a;
}

async function cppAgent(id, extra = []) {
  const witness = join(tmp.dir, `${id}.witness.jsonl`);
  const record = join(tmp.dir, `${id}.record.jsonl`);
  const c = new Child(id, CLI, [
    'agent', '--id', id, '--signal', signal.url, '--local-address', CPP_IP, '--echo',
    '--witness', witness, '--record', record, ...extra,
  ]);
  children.push(c);
  await c.line(new RegExp(`agent ${id} registered`));
  c.witness = () => readJsonLines(witness);
  c.record = () => readJsonLines(record);
  return c;
}

function turnFlags(after) {
  const file = join(tmp.dir, 'turn-password');
  writeFileSync(file, `${PASSWORD}\n`, { mode: 0o600 });
  return ['--turn', coturn.url, '--turn-username', USER, '--turn-password-file', file,
    '--turn-after-failures', String(after)];
}

const connectedEvents = (events) =>
  events.filter((w) => w.event === 'peer_connected' || w.event === 'peer_reconnected_successfully');

// COUNT messages from the Node agent to the C++ echo agent and the echoes back: each arrives
// once, in order, both ways.
async function exchange(node, cppId, cpp) {
  const acks = [];
  for (let i = 1; i <= COUNT; i++) acks.push(node.send(cppId, { i, from: node.id }));
  const done = await Promise.all(acks);
  assert.deepEqual(done.map((r) => r.sequence), [...Array(COUNT).keys()].map((k) => k + 1));
  const mine = new Set(done.map((r) => r.id));
  await waitFor(`${COUNT} echoes at ${node.id}`, () =>
    node.received.filter((m) => m.source === cppId).length >= COUNT);
  await sleep(300); // a duplicate would arrive meanwhile
  const got = cpp.record().filter((r) => r.source === node.id);
  assert.deepEqual(got.map((r) => r.seq), [...Array(COUNT).keys()].map((k) => k + 1));
  assert.ok(got.every((r) => mine.has(r.id)));
  const echoes = node.received.filter((m) => m.source === cppId);
  assert.deepEqual(echoes.map((m) => m.payload.echo.i), [...Array(COUNT).keys()].map((k) => k + 1));
  assert.deepEqual(echoes.map((m) => m.sequence_num), [...Array(COUNT).keys()].map((k) => k + 1));
  assert.equal(new Set(echoes.map((m) => m.payload.in_reply_to)).size, COUNT);
  assert.deepEqual(node.events.filter((w) => w.event === 'ifmessage_rejected'), []);
  assert.deepEqual(cpp.witness().filter((w) => /rejected|auth_failed/.test(w.event)), []);
}

test('coturn on loopback', async () => {
  coturn = await startCoturn();
});

test('relay only from the first attempt: both ends select relay candidates', async () => {
  await freshSetup();
  // 'cpp-a' < 'node-z': the C++ agent offers, relay only; the Node agent answers relay only.
  // The direct path is open: nothing but the relay-only policies keeps them off it.
  const cpp = await cppAgent('cpp-a', turnFlags(0));
  const node = await nodeAgent('node-z', { turnAfterFailures: 0 });
  await waitFor('node-z connected', () => connectedEvents(node.events).length === 1, 20000);
  const [w] = connectedEvents(node.events);
  assert.equal(w.event, 'peer_connected', JSON.stringify(w));
  assert.equal(w.strategy, 'turn', JSON.stringify(w));
  assert.equal(w.local_candidate_type, 'relay', JSON.stringify(w));
  assert.equal(w.remote_candidate_type, 'relay', JSON.stringify(w));
  await waitFor('cpp-a witnessed the link', () => connectedEvents(cpp.witness()).length === 1);
  const [c] = connectedEvents(cpp.witness());
  assert.equal(c.peer_id, 'node-z');
  assert.equal(c.metadata.strategy, 'turn', JSON.stringify(c));
  assert.equal(c.metadata.local_candidate_type, 'relay', JSON.stringify(c));
  assert.equal(c.metadata.remote_candidate_type, 'relay', JSON.stringify(c));
  await exchange(node, 'cpp-a', cpp);
});

test('a relay-only C++ agent answers through TURN too', async () => {
  await freshSetup();
  // 'a-node' < 'cpp-x': the Node agent offers directly; the C++ agent answers relay only, so
  // the only pairs are the Node agent's host candidate with the C++ agent's relayed one.
  const cpp = await cppAgent('cpp-x', turnFlags(0));
  const node = await nodeAgent('a-node');
  await waitFor('cpp-x witnessed the link', () => connectedEvents(cpp.witness()).length === 1, 20000);
  const [c] = connectedEvents(cpp.witness());
  assert.equal(c.peer_id, 'a-node');
  assert.equal(c.event, 'peer_connected', JSON.stringify(c));
  assert.equal(c.metadata.strategy, 'turn', JSON.stringify(c));
  assert.equal(c.metadata.local_candidate_type, 'relay', JSON.stringify(c));
  await waitFor('a-node connected', () => connectedEvents(node.events).length === 1);
  const [w] = connectedEvents(node.events);
  assert.equal(w.strategy, 'direct', JSON.stringify(w));
  // The C++ agent's relayed candidate, or the same address learnt as peer-reflexive: a check
  // from it may arrive before the trickled candidate does (RFC 8445 7.3.1.3). Either way the
  // C++ end sent from its relay, as its own event above says.
  assert.ok(['relay', 'prflx'].includes(w.remote_candidate_type), JSON.stringify(w));
  await exchange(node, 'cpp-x', cpp);
});

test('the Node agent falls back to TURN after two failed direct attempts', async (t) => {
  if (!inPrivateNamespace()) return t.skip('needs a network namespace of its own');
  await freshSetup();
  blockDirect();
  t.after(unblockDirect);
  // 'a-node' < 'cpp-z': the Node agent offers. The C++ agent answers with its host candidates.
  const healing = { turnAfterFailures: 2, attemptTimeout: 5000, initialDelay: 200, jitter: 0 };
  const cpp = await cppAgent('cpp-z');
  const node = await nodeAgent('a-node', healing);
  await waitFor('a-node connected', () => connectedEvents(node.events).length === 1, 30000);
  const failed = node.events.filter((w) => w.event === 'reconnection_attempt_failed');
  // Two direct attempts failed; a relayed one that was slow to connect may have failed too.
  assert.deepEqual(failed.slice(0, 2).map((w) => [w.attempt_number, w.strategy]), [[1, 'direct'], [2, 'direct']]);
  assert.ok(failed.slice(2).every((w) => w.strategy === 'turn'), JSON.stringify(failed));
  const turn = node.events.filter((w) => w.event === 'reconnection_using_turn');
  assert.deepEqual(turn.map((w) => w.failed_attempts), [2]);
  const [w] = connectedEvents(node.events);
  assert.equal(w.event, 'peer_reconnected_successfully', JSON.stringify(w));
  assert.equal(w.strategy, 'turn', JSON.stringify(w));
  assert.equal(w.failed_attempts, failed.length, JSON.stringify(w));
  // Our relayed address to the C++ agent's host candidate, as the C++ agent sees it too.
  assert.equal(w.local_candidate_type, 'relay', JSON.stringify(w));
  await waitFor('cpp-z witnessed the link', () => connectedEvents(cpp.witness()).length >= 1);
  const c = connectedEvents(cpp.witness()).at(-1);
  assert.equal(c.peer_id, 'a-node');
  assert.equal(c.metadata.remote_candidate_type, 'relay', JSON.stringify(c));
  await exchange(node, 'cpp-z', cpp);
});

test('the C++ agent falls back to TURN after a failed direct attempt to a Node agent', async (t) => {
  if (!inPrivateNamespace()) return t.skip('needs a network namespace of its own');
  await freshSetup();
  blockDirect();
  t.after(unblockDirect);
  // 'cpp-b' < 'node-y': the C++ agent offers, first directly, then relay only.
  const cpp = await cppAgent('cpp-b', turnFlags(1));
  const node = await nodeAgent('node-y', { attemptTimeout: 15000 });
  await waitFor('cpp-b connected', () => connectedEvents(cpp.witness()).length === 1, 30000);
  const ev = cpp.witness();
  const failed = ev.filter((w) => w.event === 'reconnection_attempt_failed');
  assert.equal(failed[0]?.metadata.strategy, 'direct', JSON.stringify(failed));
  assert.ok(failed.slice(1).every((w) => w.metadata.strategy === 'turn'), JSON.stringify(failed));
  const turn = ev.filter((w) => w.event === 'reconnection_using_turn');
  assert.deepEqual(turn.map((w) => w.metadata.failed_attempts), [1]);
  const [c] = connectedEvents(ev);
  assert.equal(c.event, 'peer_reconnected_successfully', JSON.stringify(c));
  assert.equal(c.metadata.strategy, 'turn', JSON.stringify(c));
  assert.equal(c.metadata.local_candidate_type, 'relay', JSON.stringify(c));
  await waitFor('node-y connected', () => connectedEvents(node.events).length >= 1);
  assert.equal(connectedEvents(node.events).at(-1).remote_candidate_type, 'relay');
  await exchange(node, 'cpp-b', cpp);
});
