import { describe, expect, it } from 'vitest';
import { dedicatedSlotCaps, sharedSlotCap, groupHandler, groupOfIndex, handlerGroup, pickWorker } from '../../src/engine/balancer.ts';

describe('worker balancer', () => {
  const dedicated = [1]; // the first worker serves the isolated lane
  const workers = [
    { id: 11, currentUsage: 0 }, // index 0: dedicated
    { id: 12, currentUsage: 3 }, // index 1: shared
    { id: 13, currentUsage: 1 }, // index 2: shared
  ];
  const index: Record<number, number> = { 11: 0, 12: 1, 13: 2 };
  const groupOf = (id: number) => (index[id] === undefined ? undefined : groupOfIndex(index[id]!, dedicated));

  it('maps share indexes to groups', () => {
    expect([0, 1, 2].map((i) => groupOfIndex(i, [1]))).toEqual([0, -1, -1]);
    expect([0, 1, 2, 3].map((i) => groupOfIndex(i, [1, 2]))).toEqual([0, 1, 1, -1]);
    expect(handlerGroup(groupHandler(2))).toBe(2);
    expect(handlerGroup(groupHandler(-1))).toBe(-1);
  });

  it('sends shared work to the least busy shared worker, never to a dedicated one', () => {
    expect(pickWorker(-1, workers, groupOf, 8)?.id).toBe(13);
  });

  it('sends isolated work only to its dedicated worker, or nowhere when it is full', () => {
    expect(pickWorker(0, workers, groupOf, 8)?.id).toBe(11);
    expect(pickWorker(0, [{ id: 11, currentUsage: 8 }, ...workers.slice(1)], groupOf, 8)).toBeNull();
  });

  it('a worker whose share is not known yet only takes shared work', () => {
    expect(pickWorker(0, [{ id: 99, currentUsage: 0 }], groupOf, 8)).toBeNull();
    expect(pickWorker(-1, [{ id: 99, currentUsage: 0 }], groupOf, 8)?.id).toBe(99);
  });
});

describe('slot caps of lanes with dedicated workers', () => {
  it('a lane gets its worker group\'s connections x streams; other lanes are not named', () => {
    // The documented write lane: 1 dedicated worker of 2, max 4 (shares 2 + 2), 4 streams.
    expect(dedicatedSlotCaps([{ name: 'write', workers: 1 }], [2, 2], 4)).toEqual(new Map([['write', 8]]));
    // Two groups: critical owns index 0, write indexes 1-2; index 3 serves the rest.
    expect(dedicatedSlotCaps([{ name: 'critical', workers: 1 }, { name: 'write', workers: 2 }], [3, 2, 2, 2], 2)).toEqual(
      new Map([['critical', 6], ['write', 8]]),
    );
  });

  it('the lanes without dedicated workers share the remaining workers\' connections x streams', () => {
    expect(sharedSlotCap(1, [2, 2], 4)).toBe(8);
    expect(sharedSlotCap(3, [3, 2, 2, 2], 2)).toBe(4);
    expect(sharedSlotCap(1, [3, 2, 2], 2)).toBe(8);
  });
});

describe('readiness', () => {
  it('routes to a ready worker of the group, even a busier one; a worker still opening (or retrying) its pool only when none is ready', () => {
    const ws = [
      { id: 1, currentUsage: 0 }, // replacement whose sub-pool is not open
      { id: 2, currentUsage: 5 },
    ];
    const shared = () => -1;
    expect(pickWorker(-1, ws, shared, 100, (id) => id !== 1)?.id).toBe(2);
    expect(pickWorker(-1, ws, shared, 100, () => false)?.id).toBe(1);
    expect(pickWorker(-1, ws, shared, 100, () => true)?.id).toBe(1);
  });
});
