// Browser interop: Debian's Chromium (through playwright-core) against the ifmesh C++ stack.
// Run by run_chromium_interop.sh inside a loopback-only network namespace, which starts the
// signaling server and the C++ interop peer and passes their addresses here:
//   IFMESH_SIGNAL_URL  ws://127.0.0.1:PORT of `ifmesh signal`
//   IFMESH_PEER_ID     the C++ peer's agent id (default cpp-peer)
//   IFMESH_SMALL_PEER_ID, IFMESH_SMALL_MAX  a second C++ peer run with --max-message-size
//   CHROMIUM           the browser (default /usr/bin/chromium); missing = failure, never a skip
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SIGNAL_URL = process.env.IFMESH_SIGNAL_URL;
const PEER_ID = process.env.IFMESH_PEER_ID || 'cpp-peer';
const SMALL_PEER_ID = process.env.IFMESH_SMALL_PEER_ID || 'cpp-peer-small';
const SMALL_MAX = Number(process.env.IFMESH_SMALL_MAX || 100000);
const BROWSER_ID = 'browser-1';
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--disable-background-networking',
  '--allow-loopback-in-peer-connection',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

// The only files the page may load: the SDK under test and the harness.
const ROUTES = {
  '/': [path.join(here, 'page', 'index.html'), 'text/html'],
  '/harness.js': [path.join(here, 'page', 'harness.js'), 'text/javascript'],
  '/ifmesh.js': [path.join(here, '..', '..', 'clients', 'web', 'ifmesh.js'), 'text/javascript'],
};

function serve() {
  const server = http.createServer((req, res) => {
    const route = ROUTES[new URL(req.url, 'http://x').pathname];
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': route[1], 'cache-control': 'no-store' });
    res.end(fs.readFileSync(route[0]));
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server;
let context;
let userDataDir;
let page;
const h = (fn, ...args) => page.evaluate(fn, args);
// The harness steps the cases use most, by channel key.
const echo = (key, text) => h(([k, t]) => harness.echoText(k, t), key, text);
const command = (key, text) => h(([k, t]) => harness.command(k, t), key, text);
const roundTrip = (key, kind, size) =>
  h(([k, t, s]) => harness.roundTrip(k, t, s), key, kind, size);
const infoOf = (key) => h(([k]) => harness.info(k), key);

before(async () => {
  assert.ok(fs.existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM} (install: chromium)`);
  assert.ok(SIGNAL_URL, 'IFMESH_SIGNAL_URL is not set: run through run_chromium_interop.sh');
  server = await serve();
  userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ifmesh-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    env: { ...process.env, HOME: userDataDir }, // nothing written to the real home
  });
  // Chrome gathers on every interface (so on loopback, which is all the namespace has) only for
  // pages with media permission; otherwise it uses the default route's address, and there is no
  // default route here. No device is opened: the permission alone changes the enumeration.
  await context.grantPermissions(['microphone', 'camera']);
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => console.error(`[page ${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => window.harnessReady === true);
});

after(async () => {
  if (page) console.error('page events:', JSON.stringify(await h(() => harness.events())));
  await context?.close();
  server?.close();
  if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
});

describe('signaling from the browser', () => {
  it('registers and finds the C++ peer in the directory', async () => {
    const directory = await h(([url, id]) => harness.register(url, id), SIGNAL_URL, BROWSER_ID);
    assert.ok(directory.includes(PEER_ID), `directory ${JSON.stringify(directory)}`);
  });

  it('sees an agent join and leave', async () => {
    const directory = await h(([url]) => harness.joinAndLeave(url, 'browser-2'), SIGNAL_URL);
    assert.ok(directory.includes(BROWSER_ID) && directory.includes(PEER_ID));
  });

  it('reports duplicate_id and unknown_peer errors', async () => {
    assert.equal(
      await h(([url, id]) => harness.registerDuplicate(url, id), SIGNAL_URL, BROWSER_ID),
      'duplicate_id',
    );
    assert.equal(await h(() => harness.relayToUnknown('no-such-agent')), 'unknown_peer');
  });
});

// The same checks on a connection the browser offered and on one the C++ peer offered.
const scenarios = [
  {
    name: 'browser offers to the C++ peer',
    browserOffers: true,
    open: () => h(([peer]) => harness.connect(peer, 'control'), PEER_ID),
  },
  {
    name: 'C++ peer offers to the browser',
    browserOffers: false,
    open: async (first) => {
      const reply = await h(([k, id]) => harness.command(k, `offer:${id}`), first, BROWSER_ID);
      assert.equal(reply, `ok:offer:${BROWSER_ID}`);
      return h(() => harness.incoming('control'));
    },
  },
];

let firstControl; // the browser-offered connection's control channel drives the second scenario

for (const scenario of scenarios) {
  describe(scenario.name, () => {
    let control;
    const tag = scenario.browserOffers ? 'b' : 'c';

    it('connects with the expected roles', async () => {
      control = await scenario.open(firstControl);
      firstControl ??= control;
      const info = await infoOf(control);
      assert.equal(info.state, 'connected');
      assert.equal(info.initiator, scenario.browserOffers);
      assert.equal(info.localType, scenario.browserOffers ? 'offer' : 'answer');
      assert.equal(info.readyState, 'open');
      // Trickle ICE both ways: each side sent its loopback host candidate and end-of-candidates.
      // The browser's end of the pair is its host candidate; the C++ end is that host candidate,
      // or peer-reflexive when the C++ side's first check reached Chromium before its trickled
      // candidate did (a legitimate ICE race; Chromium then hides the address).
      const udpHost = (line) => / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(line);
      const trickled = await h(([k]) => harness.trickleDone(k), control);
      assert.ok(trickled.local.some(udpHost), `browser sent ${trickled.local}`);
      assert.ok(trickled.remote.some(udpHost), `C++ sent ${trickled.remote}`);
      assert.deepEqual(info.pair?.local, { type: 'host', address: '127.0.0.1', protocol: 'udp' });
      const remote = info.pair?.remote;
      assert.ok(
        (remote?.type === 'host' && remote.address === '127.0.0.1') || remote?.type === 'prflx',
        `remote end of the pair: ${JSON.stringify(remote)}`);
      assert.equal(remote?.protocol, 'udp');
    });

    it('round-trips text and binary messages', async () => {
      for (const text of ['hello ifmesh', 'grüße ✓ 🚀 ünïcödé']) {
        assert.equal(await echo(control, text), text);
      }
      for (const [kind, size] of [
        ['text', 1],
        ['text', 1000],
        ['text', 65536],
        ['binary', 1],
        ['binary', 1000],
        ['binary', 65536],
      ]) {
        const got = await roundTrip(control, kind, size);
        assert.deepEqual(got, { kind, size, equal: true }, `${kind} ${size}`);
      }
    });

    it('round-trips empty text and binary messages', async () => {
      for (const kind of ['text', 'binary']) {
        const got = await roundTrip(control, kind, 0);
        assert.deepEqual(got, { kind, size: 0, equal: true }, `empty ${kind}`);
      }
    });

    it('sends a message of the negotiated max-message-size both ways', async () => {
      const info = await infoOf(control);
      const sizes = `a=max-message-size ${info.localMax}/${info.remoteMax}`;
      assert.ok(info.localMax > 0 && info.remoteMax > 0, sizes);
      const negotiated = Math.min(info.localMax, info.remoteMax);
      assert.equal(info.sctpMax, negotiated, 'pc.sctp.maxMessageSize');
      const reply = await command(control, 'maxsize?');
      assert.equal(reply, `maxsize:${negotiated}`, 'the C++ side agrees on the limit');
      for (const kind of ['binary', 'text']) {
        const got = await roundTrip(control, kind, negotiated);
        assert.deepEqual(got, { kind, size: negotiated, equal: true }, `${kind} ${negotiated}`);
      }
      const oversize = await h(([k, s]) => harness.trySend(k, s), control, negotiated + 1);
      assert.equal(oversize, 'TypeError', 'the browser refuses one byte more');
      assert.equal(await echo(control, 'still open'), 'still open');
    });

    it('carries a channel the browser opens', async () => {
      const ch = await h(([k, l]) => harness.createChannel(k, l), control, `from-browser-${tag}`);
      assert.equal(await echo(ch, 'on browser channel'), 'on browser channel');
      const got = await roundTrip(ch, 'binary', 4096);
      assert.deepEqual(got, { kind: 'binary', size: 4096, equal: true });
    });

    it('carries a channel the C++ peer opens', async () => {
      const label = `from-cpp-${tag}`;
      assert.equal(await command(control, `open:${label}`), `ok:open:${label}`);
      const ch = await h(([l]) => harness.incoming(l), label);
      assert.equal(await echo(ch, 'on C++ channel'), 'on C++ channel');
      const got = await roundTrip(ch, 'binary', 4096);
      assert.deepEqual(got, { kind: 'binary', size: 4096, equal: true });
    });

    it('closes from the browser side and the C++ side sees it', async () => {
      const label = `closed-by-browser-${tag}`;
      const ch = await h(([k, l]) => harness.createChannel(k, l), control, label);
      assert.equal(await echo(ch, 'before close'), 'before close');
      await h(([k]) => harness.close(k), ch);
      assert.equal(await h(([k]) => harness.waitClosed(k), ch), 'closed');
      assert.equal(await h(([k]) => harness.nextText(k), control), `event:closed:${label}`);
    });

    it('closes from the C++ side and the browser sees it', async () => {
      const label = `closed-by-cpp-${tag}`;
      assert.equal(await command(control, `open:${label}`), `ok:open:${label}`);
      const ch = await h(([l]) => harness.incoming(l), label);
      await h(([k]) => harness.send(k, 'close'), ch); // the C++ side closes this channel
      assert.equal(await h(([k]) => harness.waitClosed(k), ch), 'closed');
      assert.equal(await h(([k]) => harness.nextText(k), control), `event:closed:${label}`);
      assert.equal(await echo(control, 'control lives'), 'control lives');
    });
  });
}

describe('C++ peer announcing a smaller max-message-size', () => {
  it('both sides keep to the smaller limit', async () => {
    const ch = await h(([peer]) => harness.connect(peer, 'control'), SMALL_PEER_ID);
    const info = await infoOf(ch);
    assert.equal(info.remoteMax, SMALL_MAX, 'the C++ answer announces its limit');
    assert.equal(info.sctpMax, SMALL_MAX, 'pc.sctp.maxMessageSize');
    assert.equal(await command(ch, 'maxsize?'), `maxsize:${SMALL_MAX}`);
    const got = await roundTrip(ch, 'binary', SMALL_MAX);
    assert.deepEqual(got, { kind: 'binary', size: SMALL_MAX, equal: true });
    assert.equal(await h(([k, s]) => harness.trySend(k, s), ch, SMALL_MAX + 1), 'TypeError');
  });
});
