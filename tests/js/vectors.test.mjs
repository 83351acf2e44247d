// docs/link-protocol.md section 13: every test vector, byte for byte, through the ifmesh package.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Identity, codec, verifyHello, verifyMessageSignature, zstdDecompress } from '../../clients/js/src/node.js';

const doc = readFileSync(fileURLToPath(new URL('../../docs/link-protocol.md', import.meta.url)), 'utf8');
const hex = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)));
const toHex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
// A subsection of the worked examples (section 12) or the test vectors (section 13).
const section = (title) => {
  const start = doc.indexOf(`### ${title}`, doc.indexOf('## 12. Worked examples'));
  assert.ok(start >= 0, title);
  const end = doc.indexOf('\n### ', start + 4);
  return doc.slice(start, end < 0 ? undefined : end);
};
const blocks = (text) => [...text.matchAll(/```(?:json)?\n([\s\S]*?)\n```/g)].map((m) => m[1]);

const SEED = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
const PUB_HEX = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
const PUB_B64 = '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=';
const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

test('vector 1: the key, from the seed and from the PEM the C++ agent reads', async () => {
  const v1 = section('Vector 1');
  assert.ok(v1.includes(SEED) && v1.includes(PUB_HEX) && v1.includes(PUB_B64));
  const fromSeed = await Identity.import({ seed: hex(SEED) });
  assert.equal(toHex(fromSeed.publicKeyBytes), PUB_HEX);
  assert.equal(fromSeed.publicKeyBase64, PUB_B64);
  const pem = blocks(v1)[0];
  const fromPem = await Identity.import(pem);
  assert.equal(fromPem.publicKeyBase64, PUB_B64);
  assert.equal((await fromPem.exportPem()).trim(), pem.trim());
  assert.equal(toHex(await fromPem.exportPkcs8()), '302e020100300506032b657004220420' + SEED);
  const again = await Identity.import(await fromPem.exportJwk());
  assert.equal(again.publicKeyBase64, PUB_B64);
});

test('vector 2: hello signing input and signature; verification and its refusals', async () => {
  const v2 = section('Vector 2');
  const [fp, input, sig] = blocks(v2);
  assert.equal(fp, FP);
  const mine = codec.helloSigningInput('agent-a', 1234567890123, FP, 'agent-b');
  assert.equal(mine, input);
  assert.equal(codec.utf8Bytes(mine).length, 151);
  const id = await Identity.import({ seed: hex(SEED) });
  assert.equal(await id.signHello('agent-a', 1234567890123, FP, 'agent-b'), sig);

  // The hello frame of section 12 decodes and verifies as agent-b would.
  const frame = blocks(section('Connection start'))[0];
  const [hello] = codec.decodeText(frame);
  assert.equal(hello.type, 'hello');
  assert.deepEqual(hello.lanes, [0, 3, 17, 0]);
  assert.equal(hello.inc, 1234567890123);
  assert.equal(hello.peer, 987654321);
  assert.equal(await verifyHello(hello, id.publicKey, 'agent-a', 'agent-b', FP), null);
  assert.equal(await verifyHello(hello, null, 'agent-a', 'agent-b', FP), 'unknown_peer_key');
  assert.equal(await verifyHello({ ...hello, sig: undefined }, id.publicKey, 'agent-a', 'agent-b', FP), 'missing_signature');
  assert.equal(await verifyHello(hello, id.publicKey, 'agent-a', 'agent-b', FP.replace('00', '01')), 'fingerprint_mismatch');
  assert.equal(await verifyHello(hello, id.publicKey, 'agent-a', 'agent-c', FP), 'bad_signature');
  assert.equal(await verifyHello({ ...hello, inc: 1 }, id.publicKey, 'agent-a', 'agent-b', FP), 'bad_signature');
  // Our own encoder writes a hello that decodes to the same fields.
  assert.equal(hello.readsZstd, true);
  const ours = codec.encodeHello({ lanes: [0, 3, 17, 0], inc: 1234567890123, peer: 987654321, fp: FP, sig, readsZstd: true });
  assert.equal(ours, frame);
});

test('vector 3: IFMessage signing input, signature and wire form', async () => {
  const v3 = section('Vector 3');
  const [input, sig, wire] = blocks(v3);
  const message = {
    id: '6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e',
    timestamp: '2026-01-02T03:04:05.678Z',
    level: 2,
    source: 'agent-a',
    destination: 'agent-b',
    version: '2.1',
    payload: { text: 'grüße', n: 42, nested: { b: true, a: null } },
    sequence_num: 7,
    priority: 'high',
    trace_id: 'trace-0001',
    incarnation: 1234567890123,
  };
  const mine = codec.messageSigningInput(message);
  assert.equal(mine, input);
  assert.equal(codec.utf8Bytes(mine).length, 202);
  const id = await Identity.import({ seed: hex(SEED) });
  assert.equal(await id.signMessage(message), sig);
  assert.equal(codec.serializeIFMessage({ ...message, signature: sig }), wire);

  // The msg frame of section 12: decodes, and encodes back byte for byte.
  const frameText = blocks(section('A message'))[0];
  const [msg] = codec.decodeText(frameText);
  assert.equal(msg.type, 'msg');
  assert.deepEqual([msg.seq, msg.hops, msg.lane, msg.ack], [5, 0, 1, 3]);
  assert.equal(await verifyMessageSignature(id.publicKey, msg.message), true);
  assert.equal(codec.encodeMsg(5, 0, 1, 3, codec.serializeIFMessage(msg.message)), frameText);
  const tampered = { ...msg.message, payload: { ...msg.message.payload, n: 43 } };
  assert.equal(await verifyMessageSignature(id.publicKey, tampered), false);
});

// In Node.js a lone signature or check is made by node:crypto in the calling thread and a burst
// by WebCrypto's thread pool (clients/js/src/node_ed25519.js): both give the vector's answers.
test('vector 3 through both Ed25519 paths of Node.js: one at a time and a burst', async () => {
  const v3 = section('Vector 3');
  const [, sig, wire] = blocks(v3);
  const id = await Identity.import({ seed: hex(SEED) });
  const message = codec.decodeText(codec.encodeMsg(7, 0, 1, 0, wire))[0].message;
  const { signature: _s, ...unsigned } = message;
  assert.equal(await id.signMessage(unsigned), sig);
  const signatures = await Promise.all(Array.from({ length: 12 }, () => id.signMessage(unsigned)));
  assert.deepEqual(signatures, Array(12).fill(sig));
  const tampered = { ...message, payload: { ...message.payload, n: 43 } };
  const checks = await Promise.all(
    Array.from({ length: 12 }, (_, i) => verifyMessageSignature(id.publicKey, i % 3 ? message : tampered)),
  );
  assert.deepEqual(checks, Array.from({ length: 12 }, (_, i) => i % 3 !== 0));
  const badSignature = { ...message, signature: sig.replace(/^./, sig[0] === 'A' ? 'B' : 'A') };
  assert.equal(await verifyMessageSignature(id.publicKey, badSignature), false);
});

test('vector 4: the compressed channel message decodes to the batch of section 12', async () => {
  const v4 = section('Vector 4');
  const bytes = hex(blocks(v4)[0].replace(/\s+/g, ''));
  assert.equal(bytes.length, 599);
  assert.equal(codec.zstdContentSize(bytes.subarray(4)), 1239);
  const batchText = blocks(section('A batch'))[0];
  assert.equal(codec.utf8Bytes(batchText).length, 1239);
  const text = new TextDecoder().decode(zstdDecompress(bytes.subarray(4), 1239));
  assert.equal(text, batchText);
  const frames = codec.decodeBinary(bytes, 327744, zstdDecompress);
  assert.deepEqual(frames.map((f) => f.type), ['msg', 'msg', 'msg', 'ack']);
  assert.deepEqual(frames.map((f) => f.seq), [18, 19, 20, 4]);
  assert.equal(frames[0].ack, 9);
  assert.equal(frames[3].lane, 3);
  const id = await Identity.import({ seed: hex(SEED) });
  for (const f of frames.slice(0, 3)) assert.equal(await verifyMessageSignature(id.publicKey, f.message), true);
  // Our batch encoder writes the same bytes from the same frames.
  const inner = JSON.parse(batchText).f.map((f) => JSON.stringify(f));
  assert.equal(codec.encodeBatch(inner), batchText);
  // The size bound is checked before decompressing; without a decoder the frame is refused.
  assert.match(codec.decodeBinary(bytes, 1000, zstdDecompress)[0].reason, /original size 1239 exceeds 1000/);
  assert.match(codec.decodeBinary(bytes, 327744, undefined)[0].reason, /compressed frame/);
  assert.match(codec.decodeBinary(Uint8Array.of(1, 2, 3, 4, 5), 100, zstdDecompress)[0].reason, /unknown binary frame/);
});

test('acks of section 12 and the receiver rules of section 11', () => {
  const [a, b] = blocks(section('Acknowledgements'))[0].split('\n');
  assert.equal(codec.encodeAck(17, 2), a);
  assert.equal(codec.encodeAck(3, 1), b);
  assert.deepEqual(codec.decodeText(b)[0], { type: 'ack', seq: 3, lane: 1 });
  const reason = (t) => codec.decodeText(t)[0].reason;
  assert.equal(reason('nope'), 'malformed frame');
  assert.equal(reason('[1]'), 'malformed frame');
  assert.equal(reason('{"t":"ack","seq":1,"l":4}'), 'bad priority lane');
  assert.equal(reason('{"t":"ack"}'), 'malformed ack');
  assert.equal(reason('{"t":"hello"}'), 'malformed hello: no recv');
  assert.equal(reason('{"t":"hello","recv":0,"lanes":[1,2]}'), 'malformed hello: bad lanes');
  assert.equal(reason('{"t":"msg","s":1}'), 'msg without message');
  assert.equal(reason('{"t":"msg","m":{}}'), 'frame without link sequence');
  assert.equal(reason('{"t":"msg","s":1,"h":-1,"m":{}}'), 'bad hop count');
  assert.match(reason('{"t":"msg","s":1,"m":{"id":"x"}}'), /^IFMessage: /);
  assert.equal(reason('{"t":"batch"}'), 'malformed batch');
  assert.equal(reason('{"t":"batch","f":[{"t":"batch","f":[]}]}'), 'nested batch');
  assert.equal(reason('{"t":"wat"}'), 'unknown frame type wat');
  assert.equal(reason('['.repeat(200) + ']'.repeat(200)), 'frame nested too deep');
});

test('canonical JSON: key order by UTF-8 bytes, escapes as the document says', () => {
  assert.equal(codec.canonicalJson({ b: 1, a: [{ d: 2, c: 3 }], é: 'x/\u007f', '\ud83d\ude00': 1, '\uffff': 2 }),
    '{"a":[{"c":3,"d":2}],"b":1,"é":"x/\u007f","\uffff":2,"\ud83d\ude00":1}');
  assert.equal(codec.canonicalJson('\b\t\n\f\r\u0001"\\'), '"\\b\\t\\n\\f\\r\\u0001\\"\\\\"');
  assert.equal(codec.base64ToBytes('11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURp=', 32), null); // padding bits
  assert.equal(codec.base64ToBytes('11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo', 32), null);
});

test('non-integer numbers keep their spelling for the signature, plain for the application', async () => {
  const id = await Identity.import({ seed: hex(SEED) });
  // As the C++ agent writes and signs them: 1.0 stays 1.0, exponents as nlohmann writes them.
  const wire = '{"destination":"agent-b","id":"x1","level":2,"payload":{"a":1.0,"b":[2.50,-3e-07],"c":"1.0","d":7},"sequence_num":1,"source":"agent-a","timestamp":"2026-01-02T03:04:05.678Z","version":"2.1"}';
  const input = '["ifmesh-msg-v1","x1","2026-01-02T03:04:05.678Z",2,"agent-a","agent-b","2.1",1,"normal","",0,{"a":1.0,"b":[2.50,-3e-07],"c":"1.0","d":7}]';
  const signature = codec.bytesToBase64(await id.signBytes(codec.utf8Bytes(input)));
  const frame = codec.encodeMsg(1, 0, 2, 0, wire.replace('"sequence_num":1,', `"sequence_num":1,"signature":"${signature}",`));
  const [msg] = codec.decodeText(frame);
  assert.equal(msg.type, 'msg');
  assert.equal(codec.messageSigningInput(msg.message), input);
  assert.equal(await verifyMessageSignature(id.publicKey, msg.message), true);
  assert.deepEqual(codec.plainJson(msg.message.payload), { a: 1, b: [2.5, -3e-7], c: '1.0', d: 7 });
  // A frame field spelled as a fraction is not an unsigned integer (section 1).
  assert.equal(codec.decodeText('{"t":"ack","seq":1.0}')[0].reason, 'malformed ack');
  // Not JSON stays not JSON; a string holding \u0000 falls back to plain numbers.
  assert.equal(codec.decodeText('{"t":"ack","seq":1.2.3}')[0].reason, 'malformed frame');
  assert.deepEqual(codec.parseJsonKeepingNumbers('{"s":"\\u0000x","n":1.0}'), { s: '\u0000x', n: 1 });
});

test('the acknowledgement request of a msg frame (sections 4 and 7)', () => {
  const m = {
    id: 'x1', timestamp: '2026-01-02T03:04:05.678Z', level: 2, source: 'agent-a',
    destination: 'agent-b', version: '2.1', payload: {}, sequence_num: 1,
  };
  const json = codec.serializeIFMessage(m);
  // The key order of section 4's example, `t s h l a r m`.
  const example = doc.slice(doc.indexOf('### msg')).match(/\{"t":"msg",[^…]*"m":/)[0];
  assert.equal(example, '{"t":"msg","s":5,"h":0,"l":1,"a":3,"r":1,"m":');
  assert.ok(codec.encodeMsg(5, 0, 1, 3, json, true).startsWith(example));
  assert.ok(!codec.encodeMsg(5, 0, 1, 3, json).includes('"r"'));
  assert.ok(!codec.encodeMsg(5, 0, 1, 3, json, false).includes('"r"'));
  assert.equal(codec.decodeText(codec.encodeMsg(3, 0, 2, 0, json, true))[0].ackRequested, true);
  assert.equal(codec.decodeText(codec.encodeMsg(3, 0, 2, 0, json))[0].ackRequested, false);
  const longest = codec.encodeMsg('18446744073709551615', 0, 0, '18446744073709551615', json, true);
  assert.ok(codec.utf8Bytes(longest).length <= codec.maxMsgFrameBytes(0, json));
  // Zero is no request; any other unsigned integer asks; anything else is a malformed frame,
  // as the C++ decoder has it.
  const withR = (r) => codec.decodeText(`{"t":"msg","s":1,"r":${r},"m":${json}}`)[0];
  assert.equal(withR('0').ackRequested, false);
  assert.equal(withR('1').ackRequested, true);
  assert.equal(withR('7').ackRequested, true);
  assert.equal(withR('9007199254740993').ackRequested, true);
  for (const bad of ['true', '-1', '-0', '"1"', '1.5', '1.0', '1e0', 'null', '[1]', '{}'])
    assert.equal(withR(bad).reason, 'bad ack request', bad);
  // The request is checked with the other link fields, before the IFMessage.
  assert.equal(codec.decodeText('{"t":"msg","s":1,"r":-1,"m":{}}')[0].reason, 'bad ack request');
});
