// Benchmark: a Node agent against a C++ `ifmesh agent --echo` (echo RTT p50/p99 with one message
// in flight, and 1 KiB IFMessages per second acknowledged, pipelined), and C++ against C++ in the
// same run (`ifmesh bench --scenario mesh2 --sign-every-message`, both agents in one process).
// Every message is signed and verified on both sides. Prints one JSON line `BENCH {...}`;
// asserts only that everything arrived. IFMESH_JS_BENCH_SCALE multiplies the sample counts.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from '../../clients/js/src/node.js';
import { CLI, Child, LOOPBACK, startCppAgent, startSignal, tempDir, waitFor } from './support.mjs';

const scale = Number(process.env.IFMESH_JS_BENCH_SCALE || 1);
const tmp = tempDir();
const stops = [];
after(async () => {
  for (const s of stops.reverse()) await s();
  tmp.remove();
});

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

test('Node ↔ C++ echo RTT and 1 KiB message rate, C++ ↔ C++ alongside', async () => {
  const signal = await startSignal();
  stops.push(() => signal.kill());
  const cpp = await startCppAgent(signal.url, 'bench-cpp', ['--echo']);
  stops.push(() => cpp.kill());
  const agent = new Agent({ id: 'bench-node', signalingUrl: signal.url, localAddress: LOOPBACK });
  stops.push(() => agent.close());
  await agent.start();
  await waitFor('link to the C++ agent', () => agent.peers().some((p) => p.state === 'connected'));

  // Echo RTT: send, wait for the echo (matched by a key in the payload), one at a time.
  const byKey = new Map();
  agent.on('message', (m) => byKey.get(m.payload?.echo?.k)?.(performance.now()));
  const rtt = async (k) => {
    const t0 = performance.now();
    const done = new Promise((r) => byKey.set(k, r));
    agent.send('bench-cpp', { k }).catch(() => {});
    const t1 = await done;
    byKey.delete(k);
    return t1 - t0;
  };
  for (let i = 0; i < 200; i++) await rtt(`w${i}`); // warm-up
  const samples = [];
  for (let i = 0; i < 1000 * scale; i++) samples.push(await rtt(`r${i}`));
  samples.sort((a, b) => a - b);

  // 1 KiB messages, up to `window` unacknowledged, counted when acknowledged.
  const total = 5000 * scale;
  const window = 512;
  const pad = 'x'.repeat(1024 - 40);
  let echoes = 0;
  agent.on('message', (m) => m.payload?.echo?.n !== undefined && echoes++);
  const t0 = performance.now();
  await new Promise((resolve, reject) => {
    let next = 0;
    let acked = 0;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < window && next < total) {
        inFlight++;
        agent.send('bench-cpp', { n: next++, pad }).then(() => {
          inFlight--;
          if (++acked === total) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
  const seconds = (performance.now() - t0) / 1000;
  await waitFor('every echo', () => echoes >= total, 60000);

  // C++ ↔ C++ in the same run: two agents, every message signed, echo round trips.
  const json = join(tmp.dir, 'mesh2.json');
  const bench = new Child('ifmesh bench', CLI, ['bench', '--scenario', 'mesh2', '--sign-every-message',
    '--mesh-seconds', String(2 * scale), '--setup-connections', '2', '--json', json]);
  stops.push(() => bench.kill());
  assert.equal((await bench.exitPromise).code, 0, bench.out);
  const m2 = JSON.parse(readFileSync(json, 'utf8'));
  const result = {
    node_cpp_rtt_ms: { p50: +percentile(samples, 50).toFixed(3), p99: +percentile(samples, 99).toFixed(3), samples: samples.length },
    node_cpp_1kib_msgs_per_s: Math.round(total / seconds),
    // Its echo keeps several round trips in flight per agent (mesh.window_per_agent).
    cpp_cpp_mesh2: {
      rtt_ms: { p50: m2.rtt_us.p50 / 1000, p99: m2.rtt_us.p99 / 1000, samples: m2.rtt_us.samples },
      round_trips_per_s: Math.round(m2.echo_round_trips_per_s),
      window_per_agent: m2.mesh?.window_per_agent,
    },
  };
  console.log(`BENCH ${JSON.stringify(result)}`);
  assert.equal(samples.length, 1000 * scale);
});
