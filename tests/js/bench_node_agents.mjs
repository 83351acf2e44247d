// The Node.js side of bench.test.mjs, run as a plain process: the test runner's async hooks
// (node:test tracks every promise and async resource to the test that made it) are not part of
// what an application pays per message; in a CPU profile of the test's own process they took
// about a sixth of the JavaScript time. Prints one line `RESULT {json}`.
//
//   node bench_node_agents.mjs node-cpp <signalUrl> <always|relayed> <total> <cppId>
//   node bench_node_agents.mjs node-node <signalUrl> <always|relayed> <total>
import { Agent as NodeAgent, nativeRTCPeerConnection, nodeDataChannelRTCPeerConnection } from '../../clients/js/src/node.js';
import { LOOPBACK, waitFor } from './support.mjs';

// IFMESH_JS_RTC=native: the agents run on ifmesh's own stack (the addon at $IFMESH_NODE_ADDON);
// otherwise on node-datachannel, whatever the environment says.
const RTCPeerConnection =
  process.env.IFMESH_JS_RTC === 'native' ? nativeRTCPeerConnection() : await nodeDataChannelRTCPeerConnection();
class Agent extends NodeAgent {
  constructor(options) {
    super({ ...options, RTCPeerConnection });
  }
}

const scale = Number(process.env.IFMESH_JS_BENCH_SCALE || 1);
const PAD = 'x'.repeat(1024 - 40); // {"n":…,"pad":"…"}: about 1 KiB of payload
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// Sends `total` messages {n, pad} with up to 512 unacknowledged; resolves when all are.
function pipelined(agent, to, total) {
  const window = 512;
  return new Promise((resolve, reject) => {
    let next = 0;
    let acked = 0;
    let inFlight = 0;
    const pump = () => {
      while (inFlight < window && next < total) {
        inFlight++;
        agent.send(to, { n: next++, pad: PAD }).then(() => {
          inFlight--;
          if (++acked === total) resolve();
          else pump();
        }, reject);
      }
    };
    pump();
  });
}

// Against a C++ `ifmesh agent --echo`: echo RTT with one message in flight, then 1 KiB messages
// (up to 512 unacknowledged), acknowledged and echoed.
async function nodeToCpp(signalUrl, mode, total, cppId) {
  const agent = new Agent({ id: `bench-node-${mode}`, signalingUrl: signalUrl, localAddress: LOOPBACK, messageSignatures: mode });
  await agent.start();
  await waitFor('link to the C++ agent', () => agent.peers().some((p) => p.id === cppId && p.state === 'connected'));
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
  const t0 = performance.now();
  await pipelined(agent, cppId, total);
  const acked = (performance.now() - t0) / 1000;
  await waitFor('every echo', () => echoes >= total, 60000);
  const echoed = (performance.now() - t0) / 1000;
  const rejected = agent.stats().messagesRejected;
  await agent.close();
  return {
    rtt_ms: { p50: +percentile(samples, 50).toFixed(3), p99: +percentile(samples, 99).toFixed(3), samples: samples.length },
    msgs_per_s: Math.round(total / acked),
    echoed_per_s: Math.round(total / echoed),
    messages: total,
    rejected,
  };
}

// Two Node agents in this process (one thread for both): 1 KiB messages one way, acknowledged.
async function nodeToNode(signalUrl, mode, total) {
  const make = (id) =>
    new Agent({ id, signalingUrl: signalUrl, localAddress: LOOPBACK, messageSignatures: mode }).start();
  const to = `bench-node-b-${mode}`;
  const b = await make(to);
  let received = 0;
  b.on('message', () => received++);
  const a = await make(`bench-node-a-${mode}`);
  await waitFor('link between the Node agents', () => a.peers().some((p) => p.id === to && p.state === 'connected'));
  const t0 = performance.now();
  await pipelined(a, to, total);
  const seconds = (performance.now() - t0) / 1000;
  if (received !== total) throw new Error(`received ${received} of ${total}`);
  await a.close();
  await b.close();
  return { msgs_per_s: Math.round(total / seconds), messages: total };
}

const [what, signalUrl, mode, total, cppId] = process.argv.slice(2);
const result =
  what === 'node-cpp' ? await nodeToCpp(signalUrl, mode, Number(total), cppId) : await nodeToNode(signalUrl, mode, Number(total));
console.log(`RESULT ${JSON.stringify(result)}`);
process.exit(0);
