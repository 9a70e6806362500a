/**
 * Which worker takes a task: a pure function of the task's group and the workers' load (in the
 * spirit of newer Piscina's balancers), so it is easy to test.
 *
 * Lanes may have dedicated workers (`dedicatedWorkers`): a critical request then never shares an
 * event loop, a heap (and so its GC pauses) or a sub-pool with the flood of normal work. Worker
 * share indexes [0, d0) serve the first such lane, [d0, d0 + d1) the next, the rest serve every
 * other lane. Within its group, the least busy worker below the usage cap wins.
 */

/** Handler names the worker exports: `default` for shared work, `isolated<k>` for lane group k. */
export const MAX_ISOLATED_GROUPS = 4;
export const groupHandler = (group: number): string => (group < 0 ? 'default' : `isolated${group}`);
export const handlerGroup = (name: string): number => (name.startsWith('isolated') ? Number(name.slice(8)) : -1);

export interface WorkerLoad {
  id: number;
  currentUsage: number;
}

/** The group (-1: shared) that a worker with this share index serves. */
export function groupOfIndex(index: number, dedicated: readonly number[]): number {
  let start = 0;
  for (let g = 0; g < dedicated.length; g++) {
    if (index < start + dedicated[g]!) return g;
    start += dedicated[g]!;
  }
  return -1;
}

/**
 * The slots each lane with dedicated workers can really use: the connections of its worker
 * group (share indexes as in groupOfIndex) x streams per connection. `isolated` lists those
 * lanes in group order; `shareMax[i]` is worker i's connection share.
 */
export function dedicatedSlotCaps(isolated: readonly { name: string; workers: number }[], shareMax: readonly number[], streams: number): Map<string, number> {
  const caps = new Map<string, number>();
  let start = 0;
  for (const lane of isolated) {
    let connections = 0;
    for (let i = start; i < start + lane.workers; i++) connections += shareMax[i] ?? 0;
    caps.set(lane.name, connections * streams);
    start += lane.workers;
  }
  return caps;
}

/**
 * The slots of the shared workers (share indexes from `dedicatedTotal` on), which every lane
 * without dedicated workers runs on: their connections x streams. Those lanes share them, so the
 * scheduler caps them together (`setSlotCaps`), not each on its own.
 */
export function sharedSlotCap(dedicatedTotal: number, shareMax: readonly number[], streams: number): number {
  let connections = 0;
  for (let i = dedicatedTotal; i < shareMax.length; i++) connections += shareMax[i]!;
  return connections * streams;
}

/**
 * Ready workers (their sub-pool is open) win over workers still opening theirs or retrying
 * after a failed open, whatever their load: work sent to those would only wait for a pool that
 * may not come. A worker that is not ready is chosen only when its group has no ready one (the
 * work then waits for the pool within its deadline; never null while the group has room, so
 * Piscina never parks work in its own queue).
 */
export function pickWorker<W extends WorkerLoad>(
  group: number,
  workers: readonly W[],
  groupOf: (id: number) => number | undefined,
  maxUsage: number,
  isReady: (id: number) => boolean = () => true,
): W | null {
  let best: W | null = null;
  let bestReady = false;
  for (const w of workers) {
    // A worker whose share is not known yet serves shared work only.
    if ((groupOf(w.id) ?? -1) !== group) continue;
    if (w.currentUsage >= maxUsage) continue;
    const ready = isReady(w.id);
    if (best === null || (ready && !bestReady) || (ready === bestReady && w.currentUsage < best.currentUsage)) {
      best = w;
      bestReady = ready;
    }
  }
  return best;
}
