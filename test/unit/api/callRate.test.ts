import { describe, expect, it } from 'vitest';
import { CallRate } from '../../../src/api/CallRate.js';

describe('CallRate', () => {
  it('counts every call and averages the last minute only', () => {
    let now = 1_000_000_000;
    const rate = new CallRate(() => now);
    for (let i = 0; i < 30; i++) rate.count();
    now += 10_000;
    for (let i = 0; i < 30; i++) rate.count();
    expect(rate.total).toBe(60);
    expect(rate.perSecond()).toBe(1);
    now += 55_000; // the first 30 are now more than a minute old
    expect(rate.perSecond()).toBe(0.5);
    now += 60_000;
    expect(rate.perSecond()).toBe(0);
    rate.count();
    expect(rate.total).toBe(61);
    expect(rate.perSecond()).toBeCloseTo(1 / 60);
  });
});
