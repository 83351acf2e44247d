// The ifmesh package as a browser loads it: ES modules with native WebCrypto, WebSocket and
// RTCPeerConnection. The test drives it through window.page.
import { Agent, Identity, IndexedDbJournal, codec, verifyMessageSignature } from '/ifmesh/index.js';
import { decompress } from '/fzstd.mjs';

const hex = (h) => Uint8Array.from(h.match(/../g).map((b) => parseInt(b, 16)));
const zstdDecompress = (bytes, size) => decompress(bytes, new Uint8Array(size));
let agent = null;
let onEcho = null; // bench(): called with the key of each echo
const received = [];
const witness = [];

window.page = {
  // Test vectors 1 to 4, computed here and compared by the test with the document's values.
  async vectors({ seed, fp, message, compressedHex, batchSize }) {
    const id = await Identity.import({ seed: hex(seed) });
    const v4 = hex(compressedHex);
    const text = new TextDecoder().decode(zstdDecompress(v4.subarray(4), batchSize));
    const frames = codec.decodeBinary(v4, 327744, zstdDecompress);
    const verified = [];
    for (const f of frames) if (f.type === 'msg') verified.push(await verifyMessageSignature(id.publicKey, f.message));
    return {
      publicKey: id.publicKeyBase64,
      pem: await id.exportPem(),
      helloInput: codec.helloSigningInput('agent-a', 1234567890123, fp, 'agent-b'),
      helloSignature: await id.signHello('agent-a', 1234567890123, fp, 'agent-b'),
      messageInput: codec.messageSigningInput(message),
      messageSignature: await id.signMessage(message),
      wire: codec.serializeIFMessage({ ...message, signature: await id.signMessage(message) }),
      batchText: text,
      frameTypes: frames.map((f) => f.type),
      verified,
    };
  },

  async start(url, id) {
    agent = new Agent({ id, signalingUrl: url, zstdDecompress });
    agent.on('message', (m) => {
      if (m.payload && m.payload.echo && m.payload.echo.k !== undefined && onEcho) return onEcho(m.payload.echo.k);
      if (m.payload && m.payload.echo && m.payload.echo.pad) return; // bench() echoes
      received.push(m);
      if (m.payload && m.payload.ask)
        agent.send(m.source, { echo: m.payload, in_reply_to: m.id }, { priority: m.priority }).catch(() => {});
    });
    agent.on('witness', (w) => witness.push(w));
    await agent.start();
    return agent.publicKey;
  },

  async sendMany(to, count) {
    const results = [];
    for (let i = 1; i <= count; i++)
      results.push(agent.send(to, { i, from: agent.id }, { priority: i % 2 ? 'normal' : 'high' }));
    return (await Promise.all(results)).map((r) => r.sequence);
  },

  // Sends {ask} to each of `to` and resolves with the ids that answered (echo or in_reply_to).
  async askAll(to) {
    const sent = await Promise.all(to.map((id) => agent.send(id, { ask: `${agent.id}>${id}` }, { priority: 'high' }).then(() => id)));
    return sent;
  },
  // Against an echo agent: echo RTT with one message in flight (ms, sorted), then `count`
  // messages of about 1 KiB with up to `window` unacknowledged (messages/s acknowledged).
  async bench(to, samples, count, window) {
    const rtts = [];
    for (let i = 0; i < samples + 50; i++) {
      const t0 = performance.now();
      const answered = new Promise((resolve) => (onEcho = (k) => k === i && resolve()));
      agent.send(to, { k: i }).catch(() => {});
      await answered;
      if (i >= 50) rtts.push(performance.now() - t0); // the first 50 warm up
    }
    onEcho = null;
    rtts.sort((a, b) => a - b);
    const pad = 'x'.repeat(1024 - 40);
    const t0 = performance.now();
    let next = 1;
    let done = 0;
    await new Promise((resolve, reject) => {
      const pump = () => {
        while (next <= count && next - done <= window)
          agent.send(to, { n: next++, pad }).then(() => (++done === count ? resolve() : pump()), reject);
      };
      pump();
    });
    return { rtts, perSecond: count / ((performance.now() - t0) / 1000) };
  },
  // An agent whose state store is in IndexedDB (retried while the signaling server still holds
  // the id of a page that was just closed): its incarnation and what its store gave back.
  async startDurable(url, id, to) {
    for (let attempt = 0; ; attempt++) {
      agent = new Agent({ id, signalingUrl: url, zstdDecompress, state: { journal: new IndexedDbJournal(id) } });
      agent.on('witness', (w) => witness.push(w));
      try {
        await agent.start();
        break;
      } catch (e) {
        await agent.close();
        if (e.code !== 'duplicate_id' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { incarnation: agent.incarnation, stored: this.unacknowledged(to) };
  },
  // Sends `count` numbered messages at once and resolves once all are durable and the peer
  // acknowledged `ackedAtLeast`, with how many it had acknowledged by then.
  async sendDurable(to, count, ackedAtLeast) {
    let acked = 0;
    let enough;
    const acknowledged = new Promise((r) => (enough = r));
    for (let n = 1; n <= count; n++)
      agent.send(to, { n }).then(() => ++acked >= ackedAtLeast && enough(), () => {});
    await Promise.all([agent.durable(), acknowledged]);
    return acked;
  },
  unacknowledged: (to) => agent.peers().find((p) => p.id === to)?.unacknowledged ?? 0,
  connectedTo: (to) => agent.peers().find((p) => p.id === to)?.state === 'connected',
  answersFrom: () =>
    received.filter((m) => m.payload && m.payload.in_reply_to && m.payload.echo && m.payload.echo.ask).map((m) => m.source),
  received: () => received,
  witness: () => witness,
  peers: () => agent.peers(),
  close: () => agent.close(),
};
window.pageReady = true;
