// The ifmesh JS agent in headless Chromium (native WebCrypto, WebSocket, RTCPeerConnection):
// the document's test vectors, and signed IFMessages both ways with a C++ `ifmesh agent` and a
// Node agent. Run by run_js_interop.sh inside a loopback-only network namespace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Agent } from '../../clients/js/src/node.js';
import { LOOPBACK, readJsonLines, startCppAgent, startSignal, tempDir, waitFor } from './support.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = path.join(here, '..', '..', 'clients', 'js');
// playwright-core comes with the browser interop test (tests/interop/package.json).
const { chromium } = createRequire(path.join(here, '..', 'interop', 'package.json'))('playwright-core');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--disable-background-networking',
  '--allow-loopback-in-peer-connection', '--no-first-run', '--disable-component-update',
  '--disable-sync', '--disable-features=WebRtcHideLocalIpsWithMdns',
];

// Only these files are served: the page, the package's modules and fzstd's ES module.
function route(pathname) {
  if (pathname === '/favicon.ico') return null;
  if (pathname === '/') return path.join(here, 'page', 'index.html');
  if (pathname === '/page.js') return path.join(here, 'page', 'page.js');
  if (pathname === '/fzstd.mjs') return path.join(pkg, 'node_modules', 'fzstd', 'esm', 'index.mjs');
  const m = /^\/ifmesh\/([a-z_]+\.js)$/.exec(pathname);
  if (m && m[1] !== 'node.js') return path.join(pkg, 'src', m[1]);
  return null;
}

const tmp = tempDir();
const cleanups = [];
const nodeAgents = [];
let page;
let context;
let pageUrl;
const h = (fn, ...args) => page.evaluate(fn, args);
const on = (p, fn, ...args) => p.evaluate(fn, args);
let signal;
let cpp;

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}`);
  signal = await startSignal();
  cleanups.push(() => signal.kill());
  const witnessFile = path.join(tmp.dir, 'cpp.witness.jsonl');
  const recordFile = path.join(tmp.dir, 'cpp.record.jsonl');
  cpp = await startCppAgent(signal.url, 'cpp-web', ['--echo', '--witness', witnessFile, '--record', recordFile]);
  cpp.witness = () => readJsonLines(witnessFile);
  cpp.record = () => readJsonLines(recordFile);
  cleanups.push(() => cpp.kill());
  const server = http.createServer((req, res) => {
    const file = route(new URL(req.url, 'http://x').pathname);
    if (!file) return res.writeHead(404).end();
    const type = file.endsWith('.html') ? 'text/html' : 'text/javascript';
    res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(fs.readFileSync(file));
  });
  await new Promise((r) => server.listen(0, LOOPBACK, r));
  cleanups.push(() => server.close());
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifmesh-js-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: userDataDir },
  });
  cleanups.push(async () => {
    await context.close();
    fs.rmSync(userDataDir, { recursive: true, force: true });
  });
  // With media permission Chromium gathers on every interface, so on loopback (see
  // tests/interop/chromium_interop.test.mjs); no device is opened.
  await context.grantPermissions(['microphone', 'camera']);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  page.on('console', (m) => m.type() === 'error' && console.error(`[page] ${m.text()}`));
  pageUrl = `http://${LOOPBACK}:${server.address().port}/`;
  await page.goto(pageUrl);
  await page.waitForFunction(() => window.pageReady === true);
});

after(async () => {
  if (page) await h(() => window.page.close()).catch(() => {});
  for (const c of cleanups.reverse()) await c();
  tmp.remove();
});

test('the test vectors pass in Chromium', async () => {
  const doc = fs.readFileSync(path.join(here, '..', '..', 'docs', 'link-protocol.md'), 'utf8');
  const v = doc.slice(doc.indexOf('## 13. Test vectors'));
  const block = (title, n = 0) => {
    const s = v.slice(v.indexOf(`### ${title}`));
    return [...s.matchAll(/```(?:json)?\n([\s\S]*?)\n```/g)].map((m) => m[1])[n];
  };
  const fp = block('Vector 2', 0);
  const message = {
    id: '6f1c2d3e-4a5b-4c6d-8e7f-901a2b3c4d5e', timestamp: '2026-01-02T03:04:05.678Z', level: 2,
    source: 'agent-a', destination: 'agent-b', version: '2.1',
    payload: { text: 'grüße', n: 42, nested: { b: true, a: null } }, sequence_num: 7,
    priority: 'high', trace_id: 'trace-0001', incarnation: 1234567890123,
  };
  const r = await h(([args]) => window.page.vectors(args), {
    seed: '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60',
    fp, message, compressedHex: block('Vector 4').replace(/\s+/g, ''), batchSize: 1239,
  });
  assert.equal(r.publicKey, '11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=');
  assert.equal(r.pem.trim(), block('Vector 1').trim());
  assert.equal(r.helloInput, block('Vector 2', 1));
  assert.equal(r.helloSignature, block('Vector 2', 2));
  assert.equal(r.messageInput, block('Vector 3', 0));
  assert.equal(r.messageSignature, block('Vector 3', 1));
  assert.equal(r.wire, block('Vector 3', 2));
  const batch = doc.slice(doc.indexOf('### A batch'));
  assert.equal(r.batchText, [...batch.matchAll(/```json\n([\s\S]*?)\n```/g)][0][1]);
  assert.deepEqual(r.frameTypes, ['msg', 'msg', 'msg', 'ack']);
  assert.deepEqual(r.verified, [true, true, true]);
});

test('a Chromium agent, a Node agent and a C++ agent: signed IFMessages every way', async () => {
  // 'browser-js' < 'cpp-web': the browser offers to the C++ agent; 'node-web' is above both.
  await h(([url]) => window.page.start(url, 'browser-js'), signal.url);
  const node = new Agent({ id: 'node-web', signalingUrl: signal.url, localAddress: LOOPBACK });
  nodeAgents.push(node);
  cleanups.push(() => node.close());
  const nodeGot = [];
  node.on('message', (m) => nodeGot.push(m));
  await node.start();
  await waitFor('browser linked to both', async () =>
    (await h(() => window.page.peers())).filter((p) => p.state === 'connected').length === 2);
  // Browser to C++ (echoed back: C++ to browser) and browser to Node.
  assert.deepEqual(await h(([to]) => window.page.sendMany(to, 10), 'cpp-web'), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  assert.deepEqual(await h(([to]) => window.page.sendMany(to, 10), 'node-web'), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
  // Node to browser, answered by the page.
  const asks = await Promise.all([1, 2, 3].map((i) => node.send('browser-js', { ask: i }, { priority: 'high' })));
  assert.equal(asks.length, 3);
  await waitFor('echoes in the browser', async () =>
    (await h(() => window.page.received())).filter((m) => m.source === 'cpp-web').length === 10);
  await waitFor('answers at node', () => nodeGot.filter((m) => m.source === 'browser-js' && m.payload.echo).length === 3);
  const inPage = await h(() => window.page.received());
  const fromCpp = inPage.filter((m) => m.source === 'cpp-web');
  assert.deepEqual(fromCpp.map((m) => m.payload.echo.i).sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.ok(fromCpp.every((m) => typeof m.signature === 'string'));
  // Each lane in order, each message once.
  const fromBrowser = nodeGot.filter((m) => m.source === 'browser-js' && !m.payload.echo);
  assert.deepEqual(fromBrowser.filter((m) => m.priority === 'normal').map((m) => m.payload.i), [1, 3, 5, 7, 9]);
  assert.deepEqual(fromBrowser.filter((m) => m.priority === 'high').map((m) => m.payload.i), [2, 4, 6, 8, 10]);
  const rejected = (await h(() => window.page.witness())).filter((w) => /rejected|auth_failed/.test(w.event));
  assert.deepEqual(rejected, []);
  assert.deepEqual(cpp.witness().filter((w) => /rejected|auth_failed/.test(w.event)), []);
});

test('mixed full mesh: 3 C++, 2 Node and 2 Chromium agents, every JS agent with every agent both ways', async () => {
  // Joins the mesh of the test above (browser-js, node-web, cpp-web). 'a-node-web2' is below
  // every other id, so this Node agent makes the offer to both browsers.
  const cpp2 = await startCppAgent(signal.url, 'cpp-web2', ['--echo']);
  cleanups.push(() => cpp2.kill());
  const cpp3 = await startCppAgent(signal.url, 'cpp-web3', ['--echo']);
  cleanups.push(() => cpp3.kill());
  const node2 = new Agent({ id: 'a-node-web2', signalingUrl: signal.url, localAddress: LOOPBACK });
  cleanups.push(() => node2.close());
  await node2.start();
  const node1 = nodeAgents[0];
  const page2 = await context.newPage();
  page2.on('pageerror', (e) => console.error(`[page 2 error] ${e.message}`));
  await page2.goto(pageUrl);
  await page2.waitForFunction(() => window.pageReady === true);
  await on(page2, ([url]) => window.page.start(url, 'browser-2'), signal.url);
  cleanups.push(() => on(page2, () => window.page.close()).catch(() => {}));

  const all = ['cpp-web', 'cpp-web2', 'cpp-web3', 'node-web', 'a-node-web2', 'browser-js', 'browser-2'];
  const answers = new Map(); // Node agents: who answered their asks
  for (const n of [node1, node2]) {
    answers.set(n.id, []);
    n.on('message', (m) => {
      if (m.payload?.ask) n.send(m.source, { echo: m.payload, in_reply_to: m.id }, { priority: m.priority }).catch(() => {});
      else if (m.payload?.echo?.ask) answers.get(n.id).push(m.source);
    });
  }
  const others = (id) => all.filter((x) => x !== id);
  const connectedCount = async (who) =>
    typeof who === 'string'
      ? (await on(who === 'browser-js' ? page : page2, () => window.page.peers())).filter((p) => p.state === 'connected').length
      : who.peers().filter((p) => p.state === 'connected').length;
  for (const who of ['browser-js', 'browser-2', node1, node2])
    await waitFor(`${who.id ?? who} linked to all`, async () => (await connectedCount(who)) === 6, 30000);

  // Every JS agent asks every other agent; each answers with a signed echo.
  const acked = await Promise.all([
    on(page, ([to]) => window.page.askAll(to), others('browser-js')),
    on(page2, ([to]) => window.page.askAll(to), others('browser-2')),
    Promise.all(others('node-web').map((to) => node1.send(to, { ask: `node-web>${to}` }, { priority: 'high' }))),
    Promise.all(others('a-node-web2').map((to) => node2.send(to, { ask: `a-node-web2>${to}` }, { priority: 'high' }))),
  ]);
  assert.deepEqual(acked.map((a) => a.length), [6, 6, 6, 6]);
  const sortedOthers = (id) => others(id).sort();
  await waitFor('every answer', async () => {
    const b1 = await on(page, () => window.page.answersFrom());
    const b2 = await on(page2, () => window.page.answersFrom());
    return b1.length >= 6 && b2.length >= 6 && answers.get('node-web').length >= 6 && answers.get('a-node-web2').length >= 6;
  }, 30000);
  assert.deepEqual((await on(page, () => window.page.answersFrom())).sort(), sortedOthers('browser-js'));
  assert.deepEqual((await on(page2, () => window.page.answersFrom())).sort(), sortedOthers('browser-2'));
  assert.deepEqual(answers.get('node-web').sort(), sortedOthers('node-web'));
  assert.deepEqual(answers.get('a-node-web2').sort(), sortedOthers('a-node-web2'));
  for (const p of [page, page2]) {
    const bad = (await on(p, () => window.page.witness())).filter((w) => /rejected|auth_failed/.test(w.event));
    assert.deepEqual(bad, []);
  }
});

test('a Chromium agent with its state in IndexedDB: the tab closed mid-stream, a new tab resumes', async () => {
  const to = 'cpp-web';
  const count = 2000;
  const first = await context.newPage();
  first.on('pageerror', (e) => console.error(`[durable page error] ${e.message}`));
  await first.goto(pageUrl);
  await first.waitForFunction(() => window.pageReady === true);
  const started = await on(first, ([url, peer]) => window.page.startDurable(url, 'browser-keep', peer), signal.url, to);
  assert.equal(started.stored, 0);
  await waitFor('the durable page linked to the C++ agent', () => on(first, ([peer]) => window.page.connectedTo(peer), to), 30000);
  // All durable and a tenth acknowledged, then the tab is gone at once: no bye, no close of the
  // agent.
  const acked = await on(first, ([peer, n]) => window.page.sendDurable(peer, n, n / 10), to, count);
  await first.close({ runBeforeUnload: false });

  const second = await context.newPage();
  second.on('pageerror', (e) => console.error(`[durable page 2 error] ${e.message}`));
  await second.goto(pageUrl);
  await second.waitForFunction(() => window.pageReady === true);
  cleanups.push(() => on(second, () => window.page.close()).catch(() => {}));
  const resumed = await on(second, ([url, peer]) => window.page.startDurable(url, 'browser-keep', peer), signal.url, to);
  assert.equal(resumed.incarnation, started.incarnation, 'the same incarnation');
  await waitFor('every stored message acknowledged', async () =>
    (await on(second, ([peer]) => window.page.connectedTo(peer), to)) &&
    (await on(second, ([peer]) => window.page.unacknowledged(peer), to)) === 0, 30000);
  await waitFor('the record complete', () => cpp.record().filter((r) => r.source === 'browser-keep').length >= count);
  const rec = cpp.record().filter((r) => r.source === 'browser-keep');
  assert.deepEqual(rec.map((r) => r.seq), [...Array(count).keys()].map((k) => k + 1), 'each once, in order');
  assert.ok(rec.every((r) => r.incarnation === started.incarnation));
  console.log(`DURABLE_BROWSER ${acked} of ${count} acknowledged when the tab closed; the new tab's store held ${resumed.stored}`);
  const bad = (await on(second, () => window.page.witness())).filter((w) => /rejected|auth_failed|state_store_failed/.test(w.event));
  assert.deepEqual(bad, []);
});

// A Chromium agent against the C++ echo agent (every message signed and verified), as
// bench.test.mjs measures a Node agent. Prints a BENCH line; asserts only that everything was
// acknowledged.
test('benchmark: Chromium agent ↔ C++ echo agent, RTT and 1 KiB message rate', async () => {
  const count = 2000;
  const r = await h(([to, n]) => window.page.bench(to, 300, n, 512), 'cpp-web', count);
  const pct = (p) => r.rtts[Math.min(r.rtts.length - 1, Math.floor((p / 100) * r.rtts.length))];
  console.log(`BENCH ${JSON.stringify({
    chromium_cpp_rtt_p50_ms: +pct(50).toFixed(3), chromium_cpp_rtt_p99_ms: +pct(99).toFixed(3),
    chromium_to_cpp_msgs_per_s: Math.round(r.perSecond), messages: count,
  })}`);
  assert.equal(r.rtts.length, 300);
  assert.ok(r.perSecond > 0);
});
