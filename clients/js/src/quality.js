// The bandwidth adapter's quality modes (include/ifmesh/bandwidth.hpp, the C++ QualityController):
// sampled buffered bytes move the mode one step at a time, HIGH -> MEDIUM -> LOW and back, with
// the same thresholds and batch delays. This agent batches in MEDIUM and LOW; it never
// compresses (see README).

export const QUALITY_DEFAULTS = Object.freeze({
  checkInterval: 100,
  highToMedium: 512 * 1024, // largest buffer above this: HIGH -> MEDIUM
  mediumToLow: 1024 * 1024, // MEDIUM -> LOW
  lowToMedium: 256 * 1024, // largest and average below this: LOW -> MEDIUM
  mediumToHigh: 128 * 1024, // MEDIUM -> HIGH
  batchDelays: Object.freeze({ HIGH: 0, MEDIUM: 50, LOW: 200 }),
});

export class QualityController {
  constructor(config = {}) {
    this.config = { ...QUALITY_DEFAULTS, ...config };
    const c = this.config;
    if (c.mediumToHigh >= c.highToMedium || c.lowToMedium >= c.mediumToLow)
      throw new RangeError('bandwidth thresholds would oscillate');
    this.mode = 'HIGH';
    this.transitions = 0;
    this.samples = 0;
    this.peakBuffered = 0;
  }

  // True when the mode changed.
  update(maxBuffered, avgBuffered) {
    this.samples++;
    this.peakBuffered = Math.max(this.peakBuffered, maxBuffered);
    const c = this.config;
    let next = this.mode;
    if (this.mode === 'HIGH') {
      if (maxBuffered > c.highToMedium) next = 'MEDIUM';
    } else if (this.mode === 'MEDIUM') {
      if (maxBuffered > c.mediumToLow) next = 'LOW';
      else if (maxBuffered < c.mediumToHigh && avgBuffered < c.mediumToHigh) next = 'HIGH';
    } else if (maxBuffered < c.lowToMedium && avgBuffered < c.lowToMedium) {
      next = 'MEDIUM';
    }
    if (next === this.mode) return false;
    this.mode = next;
    this.transitions++;
    return true;
  }

  get batchDelay() {
    return this.config.batchDelays[this.mode];
  }
}
