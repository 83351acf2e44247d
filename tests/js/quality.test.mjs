// The bandwidth adapter's modes: the C++ thresholds, one step per sample, no oscillation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QualityController } from '../../clients/js/src/index.js';

const KiB = 1024;

test('HIGH -> MEDIUM -> LOW and back, one step per sample, with hysteresis', () => {
  const q = new QualityController();
  const step = (max, avg = max) => (q.update(max * KiB, avg * KiB), q.mode);
  assert.equal(step(512), 'HIGH'); // not above the threshold
  assert.equal(step(2048), 'MEDIUM'); // never straight to LOW
  assert.equal(q.batchDelay, 50);
  assert.equal(step(1024), 'MEDIUM');
  assert.equal(step(1025), 'LOW');
  assert.equal(q.batchDelay, 200);
  assert.equal(step(0), 'MEDIUM'); // never straight to HIGH
  assert.equal(step(200), 'MEDIUM'); // above 128 KiB: stays
  assert.equal(step(100, 200), 'MEDIUM'); // the average counts too
  assert.equal(step(100, 100), 'HIGH');
  assert.equal(q.batchDelay, 0);
  assert.equal(q.transitions, 4);
  assert.throws(() => new QualityController({ mediumToHigh: 600 * KiB }), RangeError);
});
