// The JS agent's native transport in Node.js: ifmesh's own DataChannel stack through its addon
// (clients/js/native, $IFMESH_NODE_ADDON) under the W3C API of clients/js/src/native_rtc.js.
// Two connections in this process, then Node agents on it with a C++ `ifmesh agent` and with a
// Node agent on node-datachannel. Run by run_js_interop.sh in a loopback-only namespace.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Agent, nativeRTCPeerConnection, nodeDataChannelRTCPeerConnection } from '../../clients/js/src/node.js';
import { Child, LOOPBACK, readJsonLines, startCppAgent, startSignal, testResources, waitFor } from './support.mjs';

const RTCPeerConnection = nativeRTCPeerConnection();
const { children, agents, tmp } = testResources(after);

async function pair() {
  const a = new RTCPeerConnection({ bindAddress: LOOPBACK });
  const b = new RTCPeerConnection({ bindAddress: LOOPBACK });
  a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
  b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
  const da = a.createDataChannel('x', { negotiated: true, id: 0 });
  const db = b.createDataChannel('x', { negotiated: true, id: 0 });
  const opened = Promise.all([da, db].map((d) => new Promise((r) => (d.onopen = r))));
  const offer = await a.createOffer();
  await a.setLocalDescription(offer);
  await b.setRemoteDescription(offer);
  const answer = await b.createAnswer();
  await b.setLocalDescription(answer);
  await a.setRemoteDescription(answer);
  await opened;
  return { a, b, da, db };
}

test('two native connections: text and binary both ways, backpressure events, close', async () => {
  const { a, b, da, db } = await pair();
  assert.equal(a.connectionState, 'connected');
  assert.ok(da.maxMessageSize >= 65536);
  const got = [];
  db.onmessage = (e) => got.push(e.data);
  da.send('grüße ✓');
  da.send(Uint8Array.from([0, 1, 2, 255]));
  da.send(new Uint8Array(200000).fill(7).buffer);
  await waitFor('three messages', () => got.length === 3);
  assert.equal(got[0], 'grüße ✓');
  assert.deepEqual([...new Uint8Array(got[1])], [0, 1, 2, 255]);
  assert.equal(got[2].byteLength, 200000);
  // A backlog drains below the threshold and says so.
  da.bufferedAmountLowThreshold = 64 * 1024;
  const low = new Promise((r) => (da.onbufferedamountlow = r));
  for (let i = 0; i < 64; i++) da.send('y'.repeat(60000));
  assert.ok(da.bufferedAmount > 0);
  await low;
  await waitFor('the backlog delivered', () => got.length === 3 + 64);
  const stats = await a.getStats();
  assert.equal([...stats.values()].find((s) => s.type === 'local-candidate').candidateType, 'host');
  assert.throws(() => da.send(123), /string, ArrayBuffer or view/);
  // The peer's side ends when one side closes.
  const closed = new Promise((r) => (db.onclose = r));
  a.close();
  await closed;
  assert.throws(() => da.send('late'), { name: 'InvalidStateError' });
  b.close();
  assert.equal(b.connectionState, 'closed');
});

test('a malformed description or candidate is an error, not a crash', async () => {
  const pc = new RTCPeerConnection({ bindAddress: LOOPBACK });
  await assert.rejects(pc.setRemoteDescription({ type: 'offer', sdp: 'v=0\r\nnonsense' }), { code: 'MalformedSdp' });
  await assert.rejects(pc.setRemoteDescription({ type: 'rollback', sdp: '' }), /offer or answer/);
  const { a } = await pair();
  await assert.rejects(a.addIceCandidate({ candidate: 'candidate:1 1 UDP x', sdpMid: '0' }), { code: 'MalformedCandidate' });
  a.close();
  pc.close();
  assert.throws(() => pc.createDataChannel('late'), { code: 'InvalidState' });
});

test('Node agents on the native transport: with a C++ agent and a node-datachannel agent, both ways', async () => {
  const signal = await startSignal();
  children.push(signal);
  const witness = join(tmp.dir, 'cpp.witness.jsonl');
  const cpp = await startCppAgent(signal.url, 'n-cpp', ['--echo', '--witness', witness]);
  children.push(cpp);
  const start = async (id, opts = {}) => {
    const a = new Agent({ id, signalingUrl: signal.url, localAddress: LOOPBACK, ...opts });
    agents.push(a);
    a.got = [];
    a.on('message', (m) => a.got.push(m));
    await a.start();
    return a;
  };
  // 'a-native' < 'n-cpp' < 'z-ndc': the native agent offers to both. It is on ifmesh's stack by
  // default, since $IFMESH_NODE_ADDON names the addon.
  const native = await start('a-native');
  assert.equal(native.RTCPeerConnection.implementation, 'ifmesh');
  const other = await start('z-ndc', { RTCPeerConnection: await nodeDataChannelRTCPeerConnection() });
  other.on('message', (m) => m.payload.ask && other.send(m.source, { echo: m.payload }).catch(() => {}));
  await waitFor('linked to both', () => native.peers().filter((p) => p.state === 'connected').length === 2, 30000);
  const sent = [];
  for (let i = 0; i < 50; i++) {
    sent.push(native.send('n-cpp', { i, ask: true }, { priority: i % 2 ? 'normal' : 'high' }));
    sent.push(native.send('z-ndc', { i, ask: true }));
  }
  await Promise.all(sent);
  await waitFor('every echo', () => native.got.length === 100, 30000);
  const from = (id) => native.got.filter((m) => m.source === id).map((m) => m.payload.echo.i);
  assert.deepEqual(from('n-cpp').sort((x, y) => x - y), [...Array(50).keys()]);
  assert.deepEqual(from('z-ndc'), [...Array(50).keys()]);
  assert.ok(native.got.every((m) => typeof m.signature === 'string'));
  assert.deepEqual(readJsonLines(witness).filter((w) => /rejected|auth_failed/.test(w.event)), []);
  // The connection the C++ agent reports: host to host, direct.
  const up = readJsonLines(witness).find((w) => w.event === 'peer_connected' && w.peer_id === 'a-native');
  assert.equal(up.metadata.strategy, 'direct', JSON.stringify(up));
  assert.equal(up.metadata.remote_candidate_type, 'host', JSON.stringify(up));
});

test('a process that exits without closing its connections exits at once', async () => {
  const script = `
    import { nativeRTCPeerConnection } from ${JSON.stringify(new URL('../../clients/js/src/node.js', import.meta.url).href)};
    const RTC = nativeRTCPeerConnection();
    const a = new RTC({ bindAddress: '127.0.0.1' });
    const b = new RTC({ bindAddress: '127.0.0.1' });
    a.onicecandidate = (e) => e.candidate && b.addIceCandidate(e.candidate);
    b.onicecandidate = (e) => e.candidate && a.addIceCandidate(e.candidate);
    const da = a.createDataChannel('x', { negotiated: true, id: 0 });
    b.createDataChannel('x', { negotiated: true, id: 0 });
    await b.setRemoteDescription(await a.createOffer());
    await a.setRemoteDescription(await b.createAnswer());
    await new Promise((r) => (da.onopen = r));
    console.log('OPEN');
    process.exit(0);`;
  const c = new Child('exit without close', process.execPath, ['--input-type=module', '-e', script]);
  children.push(c);
  const status = await Promise.race([c.exitPromise, new Promise((r) => setTimeout(() => r(null), 10000))]);
  assert.ok(status, 'exited');
  assert.equal(status.code, 0, c.out);
  assert.match(c.out, /OPEN/);
});
