// The destination's replay rule (docs/link-protocol.md section 5): per source, the current
// incarnation and, per priority, the highest sequence_num accepted. A message of another
// incarnation is a restarted source only when its timestamp is later than every message accepted
// from the current one. A source silent for longer than the clock-skew window is forgotten.
import { laneOf } from './codec.js';

export class ReplayGuard {
  constructor(windowMs = 120000, maxSources = 65536) {
    this.windowMs = windowMs;
    this.maxSources = maxSources;
    this.sources = new Map(); // source -> {incarnation, highest: number[4], newest: ms}
    this.onChange = null; // (source): its entry changed or was forgotten (a state store keeps it)
  }

  // True when the message is fresh (and records it), false for a replay.
  accept(message, timestampMs, nowMs) {
    const lane = laneOf(message.priority);
    let s = this.sources.get(message.source);
    if (s && s.newest < nowMs - 2 * this.windowMs) {
      this.sources.delete(message.source);
      s = undefined;
    }
    const accepted = this.#accept(s, message, lane, timestampMs);
    if (accepted) this.onChange?.(message.source);
    return accepted;
  }

  #accept(s, message, lane, timestampMs) {
    if (!s) {
      if (this.sources.size >= this.maxSources) this.#forgetOldest();
      s = { incarnation: message.incarnation, highest: [0, 0, 0, 0], newest: timestampMs };
      this.sources.set(message.source, s);
    } else if (message.incarnation !== s.incarnation) {
      if (timestampMs <= s.newest) return false;
      s.incarnation = message.incarnation;
      s.highest = [0, 0, 0, 0];
    }
    if (message.sequence_num <= s.highest[lane]) return false;
    s.highest[lane] = message.sequence_num;
    if (timestampMs > s.newest) s.newest = timestampMs;
    return true;
  }

  #forgetOldest() {
    let oldest = null;
    for (const [id, s] of this.sources) if (!oldest || s.newest < oldest[1]) oldest = [id, s.newest];
    if (oldest) {
      this.sources.delete(oldest[0]);
      this.onChange?.(oldest[0]);
    }
  }
}
