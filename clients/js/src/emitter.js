// A minimal event emitter that behaves the same in Node.js and browsers.
export class Emitter {
  #handlers = new Map();

  on(name, fn) {
    if (!this.#handlers.has(name)) this.#handlers.set(name, new Set());
    this.#handlers.get(name).add(fn);
    return this;
  }
  off(name, fn) {
    this.#handlers.get(name)?.delete(fn);
    return this;
  }
  once(name, fn) {
    const wrap = (...args) => {
      this.off(name, wrap);
      fn(...args);
    };
    return this.on(name, wrap);
  }
  listens(name) {
    return (this.#handlers.get(name)?.size ?? 0) > 0;
  }
  emit(name, ...args) {
    const set = this.#handlers.get(name);
    if (!set) return false;
    for (const fn of [...set]) {
      try {
        fn(...args);
      } catch (e) {
        // A listener's exception must not break the agent's own bookkeeping.
        if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
        else console.error(e);
      }
    }
    return set.size > 0;
  }
}
