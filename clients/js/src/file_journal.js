// The state store's journal in Node.js (state_store.js): DIR/journal.jsonl, appended to and
// `fdatasync`ed per commit, rewritten through a temporary file and a rename when compacted.
// DIR/lock holds the owner's PID: one agent per directory; a lock whose process is gone (a
// killed agent) is taken over.
import { promises as fsp, constants as fsc } from 'node:fs';
import { join } from 'node:path';

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

export class FileJournal {
  // syncToDisk (true): a commit is durable once fdatasync returned, so it survives a power loss;
  // false: once written, so it survives a killed process only.
  constructor(directory, { syncToDisk = true } = {}) {
    this.directory = directory;
    this.syncToDisk = syncToDisk;
    this.path = join(directory, 'journal.jsonl');
    this.lockPath = join(directory, 'lock');
    this.file = null;
    this.locked = false;
  }

  async #lock() {
    for (let tries = 0; tries < 3; tries++) {
      try {
        const h = await fsp.open(this.lockPath, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o600);
        await h.writeFile(`${process.pid}\n`);
        await h.close();
        this.locked = true;
        return;
      } catch (e) {
        if (e.code !== 'EEXIST') throw e;
      }
      const pid = Number.parseInt(await fsp.readFile(this.lockPath, 'utf8').catch(() => ''), 10);
      if (Number.isSafeInteger(pid) && pid > 0 && alive(pid))
        throw new Error(`state directory ${this.directory} is in use by process ${pid}`);
      await fsp.rm(this.lockPath, { force: true });
    }
    throw new Error(`cannot lock state directory ${this.directory}`);
  }

  async load() {
    await fsp.mkdir(this.directory, { recursive: true, mode: 0o700 });
    await this.#lock();
    await fsp.rm(`${this.path}.tmp`, { force: true });
    let text = '';
    try {
      text = await fsp.readFile(this.path, 'utf8');
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    this.file = await fsp.open(this.path, 'a', 0o600);
    return text;
  }

  async append(text) {
    await this.file.appendFile(text);
    if (this.syncToDisk) await this.file.datasync();
  }

  async replace(text) {
    const tmp = `${this.path}.tmp`;
    const h = await fsp.open(tmp, 'w', 0o600);
    try {
      await h.writeFile(text);
      await h.datasync();
    } finally {
      await h.close();
    }
    await fsp.rename(tmp, this.path);
    const dir = await fsp.open(this.directory, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
    await this.file.close();
    this.file = await fsp.open(this.path, 'a', 0o600);
  }

  async close() {
    await this.file?.close();
    this.file = null;
    if (this.locked) await fsp.rm(this.lockPath, { force: true });
    this.locked = false;
  }
}
