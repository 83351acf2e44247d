// Benchmark, in both signature modes of docs/identity.md ('always': every message signed and
// verified; 'relayed': direct messages unsigned, the link being bound to the key by its signed
// hello), each against the C++ figures of the same run and mode:
//   * a Node agent and a C++ `ifmesh agent --echo`: echo RTT p50/p99 with one message in flight,
//     and 1 KiB IFMessages per second (up to `window` unacknowledged), acknowledged and echoed;
//   * a C++ agent process (`ifmesh flood`) against the same echo agent: echo RTT with one message
//     in flight, then the same 1 KiB messages as a flood (the C++ ↔ C++ figures of the same shape:
//     two processes, one link);
//   * C++ against C++ in one process (`ifmesh bench --scenario mesh2`, small ping payloads);
//   * two Node agents in one process, the same 1 KiB messages one way.
// Prints one JSON line `BENCH {...}`; asserts only that everything arrived.
// With $IFMESH_NODE_ADDON, the Node ↔ C++ figures are also taken with the Node agent on
// ifmesh's own stack (node_cpp_ifmesh_stack) instead of node-datachannel.
// IFMESH_JS_BENCH_SCALE multiplies the sample counts. The Node agents run in a plain process
// (bench_node_agents.mjs), as an application runs them.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI, Child, LOOPBACK, startSignal, tempDir } from './support.mjs';

const scale = Number(process.env.IFMESH_JS_BENCH_SCALE || 1);
const tmp = tempDir();
const stops = [];
after(async () => {
  for (const s of stops.reverse()) await s();
  tmp.remove();
});

// The Node agents run in a process of their own, outside the test runner
// (bench_node_agents.mjs says why).
async function nodeAgents(args, env = {}) {
  const child = new Child('bench_node_agents', process.execPath, [fileURLToPath(new URL('./bench_node_agents.mjs', import.meta.url)), ...args],
    { env: { ...process.env, ...env } });
  stops.push(() => child.kill());
  assert.equal((await child.exitPromise).code, 0, child.out);
  return JSON.parse(child.out.match(/^RESULT (.*)$/m)[1]);
}

// The C++ echo agent prints warnings only: its line per message (about 100 bytes, through a pipe
// to this process) would be part of what is measured, and an agent built on the library prints
// nothing. The Node agents wait for their link to it, so nothing waits for its "registered".
async function nodeToCpp(signalUrl, mode, total) {
  const cppId = `bench-cpp-${mode}`;
  const cpp = new Child(cppId, CLI, ['agent', '--id', cppId, '--signal', signalUrl, '--local-address', LOOPBACK,
    '--echo', '--message-signatures', mode, '--log-level', 'warn']);
  stops.push(() => cpp.kill());
  return { cppId, result: await nodeAgents(['node-cpp', signalUrl, mode, String(total), cppId]) };
}

// Two Node agents in one process (one thread for both): 1 KiB messages one way, acknowledged.
const nodeToNode = (signalUrl, mode, total) => nodeAgents(['node-node', signalUrl, mode, String(total)]);

// A C++ agent times echo round trips against the same echo agent (one in flight, as the Node
// agent does), then floods it with `count` messages of about 1 KiB.
async function cppToCpp(signalUrl, mode, cppId, count) {
  const flood = new Child('ifmesh flood', CLI, ['flood', '--id', `bench-flood-${mode}`, '--to', cppId,
    '--signal', signalUrl, '--local-address', LOOPBACK, '--count', String(count), '--size', '1024',
    '--rtt-samples', String(500 * scale), '--message-signatures', mode]);
  stops.push(() => flood.kill());
  assert.equal((await flood.exitPromise).code, 0, flood.out);
  const r = JSON.parse(flood.out.trim().split('\n').pop());
  const rtt = r.echo_rtt_ms;
  return {
    rtt_ms: { p50: +rtt.p50.toFixed(3), p99: +rtt.p99.toFixed(3), samples: rtt.samples },
    msgs_per_s: Math.round(count / (r.drain_ms / 1000)),
    messages: count,
    echoes_received: r.echoes_received,
  };
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
  // Enough messages that the start (JIT compilation, the SCTP window opening) is a small part of
  // the rate: in 'relayed' mode the first 20,000 took a third longer per message than the next.
  for (const [mode, total] of [['always', 6000 * scale], ['relayed', 100000 * scale]]) {
    const node = await nodeToCpp(signal.url, mode, total);
    assert.equal(node.result.rejected, 0);
    // At most 8,000: `ifmesh flood` queues all at once, and a link holds 10,000.
    const count = Math.min(total, 8000);
    const flood = await cppToCpp(signal.url, mode, node.cppId, count);
    assert.ok(flood.echoes_received >= count, JSON.stringify(flood));
    const native = process.env.IFMESH_NODE_ADDON
        ? await nodeAgents(['node-cpp', signal.url, mode, String(total), node.cppId], { IFMESH_JS_RTC: 'native' })
        : undefined;
    result[mode] = {
      node_cpp: node.result,
      ...(native ? { node_cpp_ifmesh_stack: native } : {}),
      cpp_cpp_processes: flood,
      cpp_cpp_mesh2: await mesh2(mode),
      node_node_one_process: await nodeToNode(signal.url, mode, total),
    };
  }
  console.log(`BENCH ${JSON.stringify(result)}`);
});
