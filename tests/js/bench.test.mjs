// Benchmark, in both signature modes of docs/identity.md ('always': every message signed and
// verified; 'relayed': direct messages unsigned, the link being bound to the key by its signed
// hello), each against the C++ figures of the same run and mode:
//   * a Node agent and a C++ `ifmesh agent --echo`: echo RTT p50/p99 with one message in flight,
//     and 1 KiB IFMessages per second (up to `window` unacknowledged), acknowledged and echoed;
//   * the same echo agent flooded with the same 1 KiB messages by a C++ agent (`ifmesh flood`);
//   * C++ against C++ in one process (`ifmesh bench --scenario mesh2`, small ping payloads);
//   * two Node agents in this process, the same 1 KiB messages one way.
// Prints one JSON line `BENCH {...}`; asserts only that everything arrived.
// IFMESH_JS_BENCH_SCALE multiplies the sample counts.
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
const PAD = 'x'.repeat(1024 - 40); // {"n":…,"pad":"…"}: about 1 KiB of payload

async function nodeToCpp(signalUrl, mode, total) {
  const cppId = `bench-cpp-${mode}`;
  const cpp = await startCppAgent(signalUrl, cppId, ['--echo', '--message-signatures', mode]);
  stops.push(() => cpp.kill());
  const agent = new Agent({ id: `bench-node-${mode}`, signalingUrl: signalUrl, localAddress: LOOPBACK, messageSignatures: mode });
  stops.push(() => agent.close());
  await agent.start();
  await waitFor('link to the C++ agent', () => agent.peers().some((p) => p.id === cppId && p.state === 'connected'));

  // Echo RTT: send, wait for the echo (matched by a key in the payload), one at a time.
  let onEcho = null;
  let echoes = 0;
  agent.on('message', (m) => {
    const echo = m.payload?.echo;
    if (echo?.k !== undefined) onEcho?.(echo.k);
    else if (echo?.n !== undefined) echoes++;
  });
  const rtt = async (k) => {
    const t0 = performance.now();
    const done = new Promise((r) => (onEcho = (got) => got === k && r()));
    agent.send(cppId, { k }).catch(() => {});
    await done;
    return performance.now() - t0;
  };
  for (let i = 0; i < 200; i++) await rtt(`w${i}`); // warm-up
  const samples = [];
  for (let i = 0; i < 500 * scale; i++) samples.push(await rtt(`r${i}`));
  samples.sort((a, b) => a - b);

  // 1 KiB messages, up to 512 unacknowledged; sends do not wait for one another.
  const t0 = performance.now();
  await pipelined(agent, cppId, total, PAD);
  const acked = (performance.now() - t0) / 1000;
  await waitFor('every echo', () => echoes >= total, 60000);
  const echoed = (performance.now() - t0) / 1000;
  const rejected = agent.stats().messagesRejected;
  await agent.close();
  return {
    cppId,
    result: {
      rtt_ms: { p50: +percentile(samples, 50).toFixed(3), p99: +percentile(samples, 99).toFixed(3), samples: samples.length },
      msgs_per_s: Math.round(total / acked),
      echoed_per_s: Math.round(total / echoed),
      messages: total,
      rejected,
    },
  };
}

// Two Node agents in this process (one thread for both): 1 KiB messages one way, acknowledged.
async function nodeToNode(signalUrl, mode, total) {
  const make = async (id) => {
    const a = new Agent({ id, signalingUrl: signalUrl, localAddress: LOOPBACK, messageSignatures: mode });
    stops.push(() => a.close());
    return a.start();
  };
  const to = `bench-node-b-${mode}`;
  const b = await make(to);
  let received = 0;
  b.on('message', () => received++);
  const a = await make(`bench-node-a-${mode}`);
  await waitFor('link between the Node agents', () => a.peers().some((p) => p.id === to && p.state === 'connected'));
  const t0 = performance.now();
  await pipelined(a, to, total, PAD);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(received, total);
  await a.close();
  await b.close();
  return { msgs_per_s: Math.round(total / seconds), messages: total };
}

// Sends `total` messages {n, pad} with up to 512 unacknowledged; resolves when all are.
function pipelined(agent, to, total, pad) {
  const window = 512;
  return new Promise((resolve, reject) => {
    let next = 0;
    let acked = 0;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < window && next < total) {
        inFlight++;
        agent.send(to, { n: next++, pad }).then(() => {
          inFlight--;
          if (++acked === total) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
}

// A C++ agent floods the same echo agent with `count` messages of about 1 KiB.
async function cppToCpp(signalUrl, mode, cppId, count) {
  const flood = new Child('ifmesh flood', CLI, ['flood', '--id', `bench-flood-${mode}`, '--to', cppId,
    '--signal', signalUrl, '--local-address', LOOPBACK, '--count', String(count), '--size', '1024',
    '--message-signatures', mode]);
  stops.push(() => flood.kill());
  assert.equal((await flood.exitPromise).code, 0, flood.out);
  const r = JSON.parse(flood.out.trim().split('\n').pop());
  return { msgs_per_s: Math.round(count / (r.drain_ms / 1000)), messages: count, echoes_received: r.echoes_received };
}

async function mesh2(mode) {
  const json = join(tmp.dir, `mesh2-${mode}.json`);
  const bench = new Child('ifmesh bench', CLI, ['bench', '--scenario', 'mesh2',
    ...(mode === 'always' ? ['--sign-every-message'] : []),
    '--mesh-seconds', String(2 * scale), '--setup-connections', '2', '--json', json]);
  stops.push(() => bench.kill());
  assert.equal((await bench.exitPromise).code, 0, bench.out);
  const m2 = JSON.parse(readFileSync(json, 'utf8'));
  return {
    rtt_ms: { p50: m2.rtt_us.p50 / 1000, p99: m2.rtt_us.p99 / 1000, samples: m2.rtt_us.samples },
    // Its echo keeps several round trips in flight per agent (mesh.window_per_agent).
    round_trips_per_s: Math.round(m2.echo_round_trips_per_s),
    window_per_agent: m2.mesh?.window_per_agent,
  };
}

test('Node ↔ C++ echo RTT and 1 KiB message rate, C++ ↔ C++ alongside, both signature modes', async () => {
  const signal = await startSignal();
  stops.push(() => signal.kill());
  const result = {};
  for (const [mode, total] of [['always', 3000 * scale], ['relayed', 20000 * scale]]) {
    const node = await nodeToCpp(signal.url, mode, total);
    assert.equal(node.result.rejected, 0);
    // At most 8,000: `ifmesh flood` queues all at once, and a link holds 10,000.
    const count = Math.min(total, 8000);
    const flood = await cppToCpp(signal.url, mode, node.cppId, count);
    assert.ok(flood.echoes_received >= count, JSON.stringify(flood));
    result[mode] = {
      node_cpp: node.result,
      cpp_cpp_flood: flood,
      cpp_cpp_mesh2: await mesh2(mode),
      node_node_one_process: await nodeToNode(signal.url, mode, total),
    };
  }
  console.log(`BENCH ${JSON.stringify(result)}`);
});
