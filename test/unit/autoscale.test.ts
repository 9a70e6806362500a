import { describe, expect, it } from 'vitest';
import { AUTOSCALE_DEFAULTS, nextMax, utilizationSample } from '../../src/engine/autoscale.ts';
import { resolveExecutorConfig } from '../../src/engine/config.ts';

describe("the note's dynamic sizing", () => {
  const c = AUTOSCALE_DEFAULTS;
  it('grows by 2 above 80 %, shrinks by 1 below 20 %, within 5..20', () => {
    expect(nextMax(10, 0.85, c)).toBe(12);
    expect(nextMax(19, 0.95, c)).toBe(20);
    expect(nextMax(20, 1, c)).toBe(20);
    expect(nextMax(10, 0.1, c)).toBe(9);
    expect(nextMax(5, 0, c)).toBe(5);
    expect(nextMax(10, 0.5, c)).toBe(10);
    expect(nextMax(3, 0.5, c)).toBe(5); // brought into bounds
  });
  it('counts queued work as full use', () => {
    expect(utilizationSample(2, 0, 8)).toBe(0.25);
    expect(utilizationSample(2, 3, 8)).toBe(1);
  });
  it('is off by default, on with VECTOR_STORE_AUTOSCALE=true, and validated', () => {
    expect(resolveExecutorConfig({}, {}).autoscale).toBeUndefined();
    expect(resolveExecutorConfig({}, { VECTOR_STORE_AUTOSCALE: 'true' }).autoscale).toEqual(AUTOSCALE_DEFAULTS);
    expect(() => resolveExecutorConfig({ autoscale: { floor: 10, ceiling: 6 } }, {})).toThrow(/floor <= ceiling/);
    expect(() => resolveExecutorConfig({ autoscale: { speed: 1 } as never }, {})).toThrow(/Unknown option `autoscale.speed`/);
  });
});
