// The destination checks of docs/link-protocol.md section 5, in the order the document gives,
// as the JS agent applies them before its application sees a message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Agent as BaseAgent, Identity, KeyDirectory, codec } from '../../clients/js/src/index.js';

async function destination() {
  // Never started: no signaling, no WebRTC; only the checks are exercised.
  const agent = new BaseAgent({ id: 'dest', signalingUrl: 'ws://127.0.0.1:9', RTCPeerConnection: class {} });
  agent.identity = await Identity.generate();
  agent.delivered = [];
  agent.rejected = [];
  agent.on('message', (m) => agent.delivered.push(m));
  agent.on('ifmessage_rejected', (w) => agent.rejected.push(w.reason));
  return agent;
}

async function signed(identity, fields) {
  const m = {
    id: crypto.randomUUID(), timestamp: codec.formatTimestamp(Date.now()), level: 2, source: 'src',
    destination: 'dest', version: '2.1', payload: { x: 1 }, sequence_num: 1, trace_id: '',
    priority: 'normal', incarnation: 5, ...fields,
  };
  m.signature = await identity.signMessage(m);
  return m;
}

test('destination checks: key, signature, timestamp, sequence, replay, restart', async () => {
  const agent = await destination();
  const source = await Identity.generate();
  const deliver = (m, hops = 0) => agent._deliver('src', codec.validateIFMessage(JSON.parse(codec.serializeIFMessage(m))), hops);

  assert.equal(await deliver(await signed(source, {})), true); // acknowledged even when rejected
  assert.deepEqual(agent.rejected, ['unknown_source_key']);
  agent.keys.set('src', source.publicKeyBase64);

  const unsigned = await signed(source, { sequence_num: 2 });
  delete unsigned.signature;
  await deliver(unsigned);
  const tampered = await signed(source, { sequence_num: 2 });
  tampered.payload = { x: 2 };
  await deliver(tampered);
  const other = await signed(await Identity.generate(), { sequence_num: 2 });
  await deliver(other);
  await deliver(await signed(source, { sequence_num: 2, timestamp: '2026-02-30T00:00:00Z' }));
  await deliver(await signed(source, { sequence_num: 2, timestamp: codec.formatTimestamp(Date.now() - 121000) }));
  await deliver(await signed(source, { sequence_num: 0 }));
  assert.deepEqual(agent.rejected.slice(1), ['missing_signature', 'bad_signature', 'bad_signature',
    'bad_timestamp', 'stale_timestamp', 'bad_sequence']);
  assert.equal(agent.delivered.length, 0);

  const first = await signed(source, { sequence_num: 1 });
  await deliver(first);
  await deliver(await signed(source, { sequence_num: 2, priority: 'high' }));
  await deliver(first); // the same message again
  await deliver(await signed(source, { sequence_num: 1, id: 'x' })); // another with a used sequence
  assert.deepEqual(agent.delivered.map((m) => m.sequence_num), [1, 2]);
  assert.deepEqual(agent.rejected.slice(7), ['replay', 'replay']);
  // A restarted source: another incarnation, later timestamp, sequences from 1 again.
  await new Promise((r) => setTimeout(r, 5));
  await deliver(await signed(source, { sequence_num: 1, incarnation: 6 }));
  // A message of the old incarnation after that is a replay, whatever its sequence.
  await deliver(await signed(source, { sequence_num: 3, incarnation: 5, timestamp: first.timestamp }));
  assert.deepEqual(agent.delivered.map((m) => [m.incarnation, m.sequence_num]), [[5, 1], [5, 2], [6, 1]]);
  assert.deepEqual(agent.rejected.slice(9), ['replay']);
  // Forwarded messages need a signature even when unsigned direct ones are allowed.
  agent.options.messageSignatures = 'relayed';
  const hopUnsigned = await signed(source, { sequence_num: 2, incarnation: 6 });
  delete hopUnsigned.signature;
  await deliver(hopUnsigned, 1);
  assert.deepEqual(agent.rejected.slice(10), ['missing_signature']);
  await deliver(hopUnsigned, 0);
  assert.equal(agent.delivered.length, 4);
});

test('an announced key that is not an Ed25519 key is refused; the known one stays', async () => {
  const keys = new KeyDirectory();
  const id = await Identity.generate();
  assert.equal(keys.set('peer', id.publicKeyBase64), true);
  for (const bad of ['', 'not base64!', 'AAAA', `${id.publicKeyBase64.slice(0, -2)}x=`])
    assert.equal(keys.set('peer', bad), false, bad);
  assert.equal(keys.base64('peer'), id.publicKeyBase64);
  assert.ok(await keys.key('peer'));
  assert.equal(keys.set('other', 'AAAA'), false);
  assert.equal(keys.has('other'), false);
  assert.equal(keys.set('peer', undefined), true); // announced no key: forgotten
  assert.equal(keys.has('peer'), false);
});
