// The same channel messages through the C++ link codec (frame_decoder, over src/mesh/link_codec)
// and through the JavaScript one (clients/js/src/codec.js): every case gives the same frames,
// field by field, and the same refusals. The cases: the fuzzing corpus of link frames, the
// worked examples and the compressed vector of docs/link-protocol.md, and the edge cases of
// sections 4, 10 and 11 written out below.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { codec, zstdDecompress } from '../../clients/js/src/node.js';

const DECODER = process.env.IFMESH_FRAME_DECODER;
const root = fileURLToPath(new URL('../../', import.meta.url));
const doc = readFileSync(`${root}docs/link-protocol.md`, 'utf8');
const blocks = (text) => [...text.matchAll(/```(?:json)?\n([\s\S]*?)\n```/g)].map((m) => m[1]);
const hex = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)));
const MAX_TEXT = 256 * 1024 + 64 * 1024 + 64; // what the JS agent reads compressed, as the filter

// A valid IFMessage (the wire form of vector 3).
const M = blocks(doc.slice(doc.indexOf('### Vector 3')))[2];
const m = (fields) => JSON.stringify({ ...JSON.parse(M), ...fields });

const text = [
  `{"t":"msg","s":1,"m":${M}}`,
  `{"t":"msg","s":5,"h":0,"l":1,"a":3,"r":1,"m":${M}}`,
  ...['0', '1', '2', 'true', 'false', '-1', '-0', '"1"', '1.5', '1.0', '1e0', 'null', '[1]', '{}']
    .map((r) => `{"t":"msg","s":1,"r":${r},"m":${M}}`),
  ...['0', '5', '-1', '1.0', '"x"', 'null'].map((a) => `{"t":"msg","s":1,"a":${a},"m":${M}}`),
  ...['3', '-1', '70000', '1.5', '"2"'].map((h) => `{"t":"msg","s":1,"h":${h},"m":${M}}`),
  ...['0', '3', '4', '-1', '"1"', '2.0'].map((l) => `{"t":"msg","s":1,"l":${l},"m":${M}}`),
  `{"t":"msg","m":${M}}`,
  `{"t":"msg","s":-1,"m":${M}}`,
  `{"t":"msg","s":1.0,"m":${M}}`,
  `{"t":"msg","s":"1","m":${M}}`,
  '{"t":"msg","s":1}',
  '{"t":"msg","s":1,"m":5}',
  '{"t":"msg","s":1,"m":{}}',
  `{"t":"msg","s":1,"r":-1,"m":{}}`,
  ...[
    { id: '' }, { version: '2.0' }, { level: 0 }, { level: 11 }, { level: '2' }, { level: 2.5 },
    { priority: 'urgent' }, { priority: 1 }, { sequence_num: -1 }, { sequence_num: 1.5 },
    { incarnation: 1.5 }, { incarnation: -3 }, { source: 7 }, { payload: null },
    { payload: { a: 1.0, b: [2.5, -3e-7], s: 'grüße ✓ \u0001' } }, { trace_id: 5 },
    { signature: 5 }, { timestamp: 5 }, { extra: 'ignored' },
  ].map((f) => `{"t":"msg","s":2,"m":${m(f)}}`),
  `{"t":"msg","s":2,"m":${M.replace('"level":2', '"level":2.0')}}`,
  `{"t":"msg","s":2,"m":${M.replace('"sequence_num":7', '"sequence_num":7.0')}}`,
  '{"t":"ack","seq":17}',
  '{"l":3,"seq":4,"t":"ack"}',
  '{"t":"ack"}',
  '{"t":"ack","seq":1,"l":4}',
  '{"t":"ack","seq":1.0}',
  '{"t":"ack","seq":1,"seq":2}',
  ' {"t" : "ack", "seq" : 3 } ',
  '{"t":"hello","recv":0}',
  '{"t":"hello","recv":0,"v":2}',
  '{"t":"hello","recv":0,"v":"1"}',
  '{"t":"hello"}',
  '{"t":"hello","recv":-1}',
  '{"t":"hello","recv":3,"lanes":[1,2,3,4],"inc":99,"peer":7,"fp":"AB:CD","sig":"c2ln"}',
  '{"t":"hello","recv":0,"lanes":[1,2]}',
  '{"t":"hello","recv":0,"lanes":[1,2,3,-4]}',
  '{"t":"hello","recv":0,"lanes":"x"}',
  '{"t":"hello","recv":0,"inc":-1}',
  '{"t":"hello","recv":0,"peer":"x"}',
  '{"t":"hello","recv":0,"peer":0}',
  '{"t":"hello","recv":0,"compress":["zstd"]}',
  '{"t":"hello","recv":0,"compress":["gzip","zstd"]}',
  '{"t":"hello","recv":0,"compress":"zstd"}',
  '{"t":"hello","recv":0,"compress":[1]}',
  '{"t":"hello","recv":0,"fp":5,"sig":null}',
  `{"t":"batch","f":[{"t":"msg","s":1,"r":1,"m":${M}},{"t":"ack","seq":2},{"t":"msg","s":2,"m":{}}]}`,
  '{"t":"batch","f":[]}',
  '{"t":"batch","f":[{"t":"batch","f":[]}]}',
  '{"t":"batch","f":[5,"x",null,[]]}',
  '{"t":"batch"}',
  '{"t":"batch","f":{}}',
  'nope',
  '',
  '[]',
  '{}',
  '5',
  '{"t":5}',
  '{"t":"wat"}',
  `{"t":"${'w'.repeat(100)}"}`,
  '['.repeat(200) + ']'.repeat(200),
  `{"t":"msg","s":1,"m":${m({ payload: JSON.parse('['.repeat(98) + ']'.repeat(98)) })}}`,
  `{"t":"msg","s":1,"m":${m({ payload: JSON.parse('['.repeat(99) + ']'.repeat(99)) })}}`,
  `{"t":"msg","s":1,"m":${m({ payload: JSON.parse('['.repeat(100) + ']'.repeat(100)) })}}`,
];
// The fuzzing corpus and the worked examples of section 12.
for (const f of readdirSync(`${root}tests/fuzz/corpus/link_frame`))
  text.push(readFileSync(`${root}tests/fuzz/corpus/link_frame/${f}`, 'utf8').trim());
const worked = doc.slice(doc.indexOf('## 12. Worked examples'), doc.indexOf('## 13.'));
for (const b of blocks(worked)) for (const line of b.split('\n')) if (line.startsWith('{"')) text.push(line);

const vector4 = hex(blocks(doc.slice(doc.indexOf('### Vector 4')))[0].replace(/\s+/g, ''));
const binary = [
  vector4,
  Uint8Array.of(1, 2, 3, 4, 5),
  Uint8Array.of(0x49, 0x46, 0x5a, 0x31),
  Uint8Array.of(0x49, 0x46, 0x5a, 0x31, 0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0),
  vector4.slice(0, 200),
];

// The JS decode in the filter's shape. IFMessage and compressed-frame refusals are compared by
// their class: the two implementations (and their zstd decoders) word the detail differently.
function normalize(frames) {
  return frames.map((f) => {
    switch (f.type) {
      case 'hello':
        return {
          type: 'hello', version: f.version, lanes: f.lanes, inc: f.inc, peer: f.peer ?? null,
          readsZstd: f.readsZstd, fp: f.fp ?? '', sig: f.sig ?? '',
        };
      case 'msg':
        return {
          type: 'msg', seq: f.seq, hops: f.hops, lane: f.lane, ack: f.ack,
          ackRequested: f.ackRequested, message: JSON.parse(codec.serializeIFMessage(f.message)),
        };
      case 'ack':
        return { type: 'ack', seq: f.seq, lane: f.lane };
      default:
        return { type: 'malformed', reason: f.reason };
    }
  });
}
// The JavaScript agent does not read witness heads: it never announces `whead` in its hello, so
// no peer sends it one, and one that came anyway is an unknown frame type, which it ignores
// (docs/link-protocol.md section 4). The C++ codec decodes them.
function normalizeCpp(frames) {
  return frames.map((f) => {
    if (f.type === 'msg') return { ...f, message: JSON.parse(f.message) };
    if (f.type === 'whead') return { type: 'malformed', reason: 'unknown frame type whead' };
    return f;
  });
}
const reasonClass = (frames) =>
  frames.map((f) => {
    if (f.type !== 'malformed') return f;
    const c = /^(?:[a-z ]+: )?(IFMessage|compressed frame): /.exec(f.reason);
    return c ? { type: 'malformed', reason: `${c[1]}: …` } : f;
  });

test('the C++ and the JavaScript codec decode the same channel messages alike', { skip: !DECODER && 'IFMESH_FRAME_DECODER not set' }, () => {
  const inputs = [
    ...text.map((t) => ({ kind: 't', bytes: codec.utf8Bytes(t), label: t })),
    ...binary.map((b) => ({ kind: 'b', bytes: b, label: `binary ${b.length} bytes` })),
  ];
  const toHex = (b) => Buffer.from(b).toString('hex');
  const run = spawnSync(DECODER, { input: inputs.map((i) => `${i.kind} ${toHex(i.bytes)}\n`).join(''), maxBuffer: 64 << 20 });
  assert.equal(run.status, 0, String(run.stderr));
  const lines = String(run.stdout).trim().split('\n');
  assert.equal(lines.length, inputs.length);
  const differ = [];
  inputs.forEach((input, i) => {
    const cpp = reasonClass(normalizeCpp(JSON.parse(lines[i])));
    const js = reasonClass(normalize(input.kind === 't'
      ? codec.decodeText(new TextDecoder().decode(input.bytes))
      : codec.decodeBinary(input.bytes, MAX_TEXT, zstdDecompress)));
    try {
      assert.deepEqual(js, cpp);
    } catch {
      differ.push(`${input.label.slice(0, 160)}\n  C++: ${JSON.stringify(cpp).slice(0, 300)}\n  JS:  ${JSON.stringify(js).slice(0, 300)}`);
    }
  });
  console.log(`codec cross-check: ${inputs.length} channel messages, ${differ.length} differ`);
  assert.deepEqual(differ, []);
});
