// Helpers for the JS interop tests: the ifmesh CLI's signaling server and agents as child
// processes on loopback, each stopped by its own PID.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CLI = process.env.IFMESH_CLI;
export const LOOPBACK = '127.0.0.1';

export function tempDir() {
  const dir = mkdtempSync(join(tmpdir(), 'ifmesh-js-'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// What one test file starts: child processes, agents and a temporary directory, all stopped
// and removed by `after` (node:test's hook, passed in) when the file's tests are done.
export function testResources(after) {
  const r = { children: [], agents: [], tmp: tempDir() };
  after(async () => {
    for (const a of r.agents) await a.close();
    for (const c of r.children.reverse()) await c.kill();
    r.tmp.remove();
  });
  return r;
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(what, predicate, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// A child process whose output is collected; `line(re)` waits for a matching line.
export class Child {
  constructor(name, cmd, args, opts = {}) {
    this.name = name;
    this.out = '';
    this.exited = null;
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    this.proc.stdout.on('data', (d) => (this.out += d));
    this.proc.stderr.on('data', (d) => (this.out += d));
    this.exitPromise = new Promise((resolve) =>
      this.proc.on('exit', (code, signal) => {
        this.exited = { code, signal };
        resolve(this.exited);
      }),
    );
  }
  async line(re, timeoutMs = 15000) {
    return waitFor(`${re} from ${this.name}`, () => {
      if (this.exited) throw new Error(`${this.name} exited early (${JSON.stringify(this.exited)}):\n${this.out}`);
      return this.out.match(re);
    }, timeoutMs);
  }
  // Stops the child and waits for its exit. A child that outlives SIGTERM by `graceMs` is a
  // bug (an agent must stop on SIGTERM): it is killed, and the call fails with its output.
  async kill(signal = 'SIGTERM', graceMs = 10000) {
    if (!this.exited) this.proc.kill(signal);
    if (signal === 'SIGKILL') return this.exitPromise;
    let timer;
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), graceMs)));
    const exited = await Promise.race([this.exitPromise, late]);
    clearTimeout(timer);
    if (exited) return exited;
    this.proc.kill('SIGKILL');
    await this.exitPromise;
    throw new Error(`${this.name} did not exit within ${graceMs} ms of ${signal}:\n${this.out.slice(-2000)}`);
  }
}

// What keeps a test process alive once its tests are done (node --test-force-exit ends it):
// printed, so a leaked handle shows in the log instead of as a hang.
process.on('exit', () => {
  const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
  if (open.length) console.log(`open handles at exit: ${open.join(', ')}`);
});

export async function startSignal() {
  const c = new Child('ifmesh signal', CLI, ['signal', '--address', LOOPBACK, '--port', '0']);
  const m = await c.line(/ws:\/\/127\.0\.0\.1:\d+/);
  c.url = m[0];
  return c;
}

export async function startCppAgent(url, id, extra = []) {
  const c = new Child(id, CLI, ['agent', '--id', id, '--signal', url, '--local-address', LOOPBACK, ...extra]);
  await c.line(new RegExp(`agent ${id} registered`));
  return c;
}

export function readJsonLines(file) {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
}
