/**
 * Lane fairness and priority with deterministic fake work: the scheduler runs with a manual
 * clock, and each piece of work is a promise the test settles by hand.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, DeadlineExceededError, QueueFullError, ShutdownError, AbortError } from '../../src/errors.ts';
import { resolveExecutorConfig } from '../../src/engine/config.ts';
import { WRITE_BATCH_KEYS } from '../../src/engine/write-batcher.ts';
import { LaneQueue, formatLanesEnv, parseLanesEnv, pickLane, resolveLanes, type LaneOptions, type LaneView } from '../../src/engine/lanes.ts';
import { Scheduler, type WorkContext } from '../../src/engine/scheduler.ts';
import { FakeClock, flush } from '../support/fake-clock.ts';

interface Job {
  label: string;
  ctx: WorkContext;
  finish: () => void;
}

/** The ConfigError parseLanesEnv throws for `text` (WEX_CONFIG_INVALID); a failure when it throws none. */
function lanesEnvError(text: string): ConfigError {
  try {
    parseLanesEnv(text);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as ConfigError).code).toBe('WEX_CONFIG_INVALID');
    return e as ConfigError;
  }
  throw new Error(`no error for ${text}`);
}

function harness(lanes: Record<string, LaneOptions> | undefined, slots: number) {
  const clock = new FakeClock();
  const scheduler = new Scheduler(resolveLanes(lanes, slots), slots, clock);
  const started: Job[] = [];
  const submit = (lane: string, label: string, deadlineMs = 60_000, signal?: AbortSignal) =>
    scheduler.submit(
      (ctx) =>
        new Promise<string>((resolve) => {
          started.push({ label, ctx, finish: () => resolve(label) });
        }),
      { lane, deadlineAt: clock.now() + deadlineMs, signal },
    );
  /** Finish the oldest running job (FIFO) and let the next one start. */
  const finishOne = async () => {
    const job = started.find((j) => !(j as { done?: boolean }).done);
    if (!job) throw new Error('nothing running');
    (job as { done?: boolean }).done = true;
    job.finish();
    await flush(3);
    return job.label;
  };
  return { clock, scheduler, started, submit, finishOne };
}

describe('lane policy (pure)', () => {
  const view = (name: string, weight: number, queued: number, extra: Partial<LaneView> = {}): LaneView => ({
    config: { name, weight, reserved: 0, maxConcurrency: Infinity, maxQueue: 1e9, defaultDeadlineMs: undefined, dedicatedWorkers: 0 },
    queued,
    inFlight: 0,
    pass: 0,
    ...extra,
  });

  it('shares dispatches by weight when every lane is backlogged (stride scheduling)', () => {
    const q = new LaneQueue(resolveLanes({ critical: { weight: 4, reserved: 0, maxQueue: 1e6 }, normal: { maxQueue: 1e6 }, batch: { weight: 0.5, maxQueue: 1e6 } }, 1), () => 1);
    const runs = new Map<() => Promise<void>, string>();
    for (const lane of ['critical', 'normal', 'batch']) {
      for (let i = 0; i < 2000; i++) {
        const run = async () => {};
        runs.set(run, lane);
        q.enqueue(run, { lane, id: `${lane}-${i}` });
      }
    }
    const counts: Record<string, number> = { critical: 0, normal: 0, batch: 0 };
    for (let i = 0; i < 1100; i++) counts[runs.get(q.dequeue()!)!]!++;
    expect(counts).toEqual({ critical: 800, normal: 200, batch: 100 });
  });

  it('a lane that was idle re-enters at the current virtual time: idleness banks no credit', () => {
    const q = new LaneQueue(resolveLanes({ critical: { reserved: 0, maxQueue: 1e6 }, normal: { maxQueue: 1e6 } }, 1), () => 1);
    const lanes = new Map<() => Promise<void>, string>();
    const add = (lane: string, n: number) => {
      for (let i = 0; i < n; i++) {
        const run = async () => {};
        lanes.set(run, lane);
        q.enqueue(run, { lane, id: `${lane}-${lanes.size}` });
      }
    };
    add('normal', 1000);
    for (let i = 0; i < 500; i++) q.dequeue(); // normal alone for a while
    add('critical', 1000);
    const next = Array.from({ length: 50 }, () => lanes.get(q.dequeue()!));
    // 4:1 from now on, not a burst of critical work paid for by normal's past.
    expect(next.filter((l) => l === 'normal').length).toBeGreaterThanOrEqual(9); // (it got none when credit was banked)
  });

  it('ties go to the lane listed first; an ineligible lane is skipped', () => {
    const lanes = [view('critical', 4, 1), view('normal', 1, 1)];
    expect(pickLane(lanes, 1)?.config.name).toBe('critical');
    lanes[0]!.config.maxConcurrency = 1;
    lanes[0]!.inFlight = 1;
    expect(pickLane(lanes, 4)?.config.name).toBe('normal');
  });

  it('reserved slots are held back from other lanes', () => {
    const critical = view('critical', 4, 0);
    critical.config.reserved = 1;
    const normal = view('normal', 1, 5, { inFlight: 3 });
    expect(pickLane([critical, normal], 4)).toBeUndefined(); // 3 running + 1 reserved = 4 slots
    critical.queued = 1;
    expect(pickLane([critical, normal], 4)?.config.name).toBe('critical');
  });

  it('lanes of one slot group share its cap, and hold back each other\'s unused reservations within it', () => {
    // 16 slots: write has a dedicated worker with 8; critical (reserves 1) and normal share the other worker's 8.
    const critical = view('critical', 4, 0, { slotCap: 8, slotGroup: -1 });
    critical.config.reserved = 1;
    const normal = view('normal', 1, 20, { inFlight: 6, slotCap: 8, slotGroup: -1 });
    const write = view('write', 1, 20, { inFlight: 8, slotCap: 8 });
    const lanes = [critical, normal, write];
    // normal: 6 + critical's unused 1 = 7 of the shared 8: one more may start (the engine's 16 allow it).
    expect(pickLane(lanes, 16)?.config.name).toBe('normal');
    normal.inFlight = 7;
    // The shared 8 hold 7 of normal's and the 1 critical reserves: normal waits, though the engine has 16 - 15 = 1 free.
    expect(pickLane(lanes, 16)).toBeUndefined();
    critical.queued = 1;
    expect(pickLane(lanes, 16)?.config.name).toBe('critical');
    critical.inFlight = 1;
    critical.queued = 5;
    // The group is full (7 + 1): no lane of it starts; write is at its own cap.
    expect(pickLane(lanes, 32)).toBeUndefined();
    // A lane alone (no group) counts only itself against its cap.
    write.inFlight = 7;
    expect(pickLane(lanes, 32)?.config.name).toBe('write');
  });
});

describe('lane configuration', () => {
  it('has critical and normal by default, and takes user lanes', () => {
    const lanes = resolveLanes({ write: { weight: 0.5, maxQueue: 100 } }, 10);
    expect(lanes.map((l) => l.name)).toEqual(['critical', 'normal', 'write']);
    expect(lanes[0]).toMatchObject({ weight: 4, reserved: 1, maxQueue: 1000 });
  });

  it('parses VECTOR_STORE_LANES and names the bad part', () => {
    expect(parseLanesEnv('critical:weight=8,reserved=2,deadline=1.5;batch:queue=50')).toEqual({
      critical: { weight: 8, reserved: 2, defaultDeadlineMs: 1500 },
      batch: { maxQueue: 50 },
    });
    expect(() => parseLanesEnv('critical:weight=-1')).toThrow(/VECTOR_STORE_LANES \(critical\.weight\).*-1/);
    expect(() => parseLanesEnv('critical:speed=9')).toThrow(ConfigError);
    expect(() => resolveLanes({ normal: { reserved: 10 } }, 10)).toThrow(/reserve/);
  });

  it('VECTOR_STORE_LANES sets every adaptive option as adaptive.<option>, protect as a |-list, and formats back', () => {
    const lanes = parseLanesEnv(
      'normal:queue=200,adaptive=1,adaptive.protect=critical|bulk,adaptive.tolerance=1.3,adaptive.minLimit=2,adaptive.maxLimit=6,adaptive.probeSamples=0,adaptive.guardBackoff=0.5;' +
        'bulk:adaptive.protect=,adaptive.windowMs=250',
    );
    expect(lanes).toEqual({
      normal: { maxQueue: 200, adaptive: { protect: ['critical', 'bulk'], tolerance: 1.3, minLimit: 2, maxLimit: 6, probeSamples: 0, guardBackoff: 0.5 } },
      // An adaptive option alone turns the limit on; an empty protect turns the tail guard off.
      bulk: { adaptive: { protect: [], windowMs: 250 } },
    });
    const [, normal, bulk] = resolveLanes(lanes, 16);
    expect(normal!.adaptive).toMatchObject({ protect: ['critical', 'bulk'], tolerance: 1.3, minLimit: 2, maxLimit: 6, initialLimit: 2, probeSamples: 0, guardBackoff: 0.5 });
    expect(bulk!.adaptive).toMatchObject({ protect: [], windowMs: 250, maxLimit: 15 }); // 16 less critical's 1 reserved
    // Without protect the default stands (critical guarded), as with `adaptive=1`.
    expect(resolveLanes(parseLanesEnv('normal:adaptive.tolerance=1.5'), 8)[1]!.adaptive!.protect).toEqual(['critical']);
    // Every option of AdaptiveLimitOptions has a key.
    const all = 'initialLimit=2,minLimit=1,maxLimit=4,smoothing=0.3,tolerance=1.4,queueSize=1,longWindow=600,windowSamples=20,windowMs=200,backoff=0.8,' +
      'probeLimit=2,probeSamples=10,probeIntervalMs=30000,protect=critical,guardTolerance=1.5,guardTargetMs=25,guardMargin=0.95,guardHeadroom=0.9,guardProbeSamples=50,guardProbeMaxMs=2000,guardWindowMs=2000,' +
      'guardIntervalMs=500,guardMinSamples=20,guardClimbSamples=60,guardLevelSamples=300,guardSkipMs=20000,guardSlowStart=2,guardBackoff=0.6,guardRetryMs=2000,guardRetryMaxMs=30000';
    const parsed = parseLanesEnv(`normal:${all.split(',').map((kv) => `adaptive.${kv}`).join(',')}`);
    expect(Object.keys(parsed['normal']!.adaptive as object).sort()).toEqual(Object.keys(resolveLanes(parsed, 8)[1]!.adaptive!).sort());
    // formatLanesEnv is the inverse (tune and bench:adaptive print settings with it).
    for (const text of ['critical:weight=8,reserved=2,deadline=1.5;normal:queue=200,adaptive=1,adaptive.protect=critical|bulk,adaptive.tolerance=1.3;bulk:adaptive=1,adaptive.protect=']) {
      expect(formatLanesEnv(parseLanesEnv(text))).toBe(text);
    }
  });

  it('a bad adaptive value in VECTOR_STORE_LANES is a ConfigError naming the variable, the lane and the key', () => {
    const error = (text: string) => lanesEnvError(text).message;
    expect(error('normal:adaptive.tolerance=0.5')).toMatch(/^Expected `VECTOR_STORE_LANES \(normal\.adaptive\.tolerance\)` to be a finite number >= 1 and <= 10, got `0.5`/);
    expect(error('normal:adaptive.tolerance=abc')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.tolerance\)` to be a number, got `abc`/);
    expect(error('normal:adaptive.tolerance')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.tolerance\)` to be a number/);
    expect(error('normal:adaptive.minLimit=1.5')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.minLimit\)` to be an integer >= 1, got `1.5`/);
    expect(error('normal:adaptive.probeSamples=-1')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.probeSamples\)` to be an integer >= 0/);
    expect(error('normal:adaptive.speed=3')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.speed\)` to be an adaptive option \(initialLimit, maxLimit, minLimit, .*protect\)/);
    expect(error('normal:adaptive.minLimit=4,adaptive.maxLimit=2')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\)` needs minLimit <= initialLimit <= maxLimit, got 4, 4, 2/);
    expect(error('normal:adaptive.protect=Critical')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.protect\)` to be lane names separated by \|/);
    expect(error('normal:adaptive.protect=bulk')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\.protect\)` to be other lanes \(critical\) separated by \|, got `bulk`/);
    expect(error('normal:adaptive.protect=critical|normal')).toMatch(/normal\.adaptive\.protect.*got `critical\|normal`/);
    expect(error('normal:adaptive=0,adaptive.tolerance=1.3')).toMatch(/`VECTOR_STORE_LANES \(normal\.adaptive\)` is off \(adaptive=0\) but adaptive options are given \(adaptive\.tolerance\)/);
  });

  it('VECTOR_STORE_LANES sets every write-batch option as batch.<option>; one alone turns batching on', () => {
    expect(parseLanesEnv('bulk:batch=1,batch.maxObjects=500,batch.maxDelayMs=2.5;normal:batch.maxDelayMs=0')).toEqual({
      bulk: { batchWrites: { maxObjects: 500, maxDelayMs: 2.5 } },
      normal: { batchWrites: { maxDelayMs: 0 } },
    });
    const [, normal, bulk] = resolveLanes(parseLanesEnv('bulk:batch.maxObjects=500;normal:batch.maxDelayMs=0'), 8);
    expect(bulk!.batchWrites).toEqual({ maxObjects: 500, maxDelayMs: 5 });
    expect(normal!.batchWrites).toEqual({ maxObjects: 200, maxDelayMs: 0 });
    // Every option of WriteBatchOptions has a key: what the env sets is what resolveWriteBatch fills.
    const all = parseLanesEnv(`bulk:${WRITE_BATCH_KEYS.map((k) => `batch.${k}=1`).join(',')}`);
    expect(Object.keys(all['bulk']!.batchWrites as object).sort()).toEqual(Object.keys(resolveLanes(all, 8)[2]!.batchWrites!).sort());
    // Through the engine's configuration, as the server reads its environment.
    const config = resolveExecutorConfig({}, { VECTOR_STORE_LANES: 'bulk:batch.maxObjects=50,batch.maxDelayMs=1' });
    expect(config.lanes.find((l) => l.name === 'bulk')!.batchWrites).toEqual({ maxObjects: 50, maxDelayMs: 1 });
    expect(() => resolveExecutorConfig({}, { VECTOR_STORE_LANES: 'bulk:batch.maxObjects=99999' })).toThrow(/VECTOR_STORE_LANES \(bulk\.batch\.maxObjects\).*99999/);
  });

  it('a bad batch value in VECTOR_STORE_LANES is a ConfigError naming the variable, the lane, the option and the value', () => {
    const error = lanesEnvError;
    const zero = error('bulk:batch.maxObjects=0');
    expect(zero.message).toBe('Expected `VECTOR_STORE_LANES (bulk.batch.maxObjects)` to be an integer between 1 and 10000, got `0` (number)');
    expect(zero.details).toMatchObject({ variable: 'VECTOR_STORE_LANES (bulk.batch.maxObjects)', value: 0 });
    expect(error('bulk:batch.maxObjects=2.5').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\.maxObjects\)` to be an integer between 1 and 10000, got `2.5`/);
    expect(error('bulk:batch.maxDelayMs=-1').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\.maxDelayMs\)` to be a finite number >= 0 and <= 10000, got `-1`/);
    expect(error('bulk:batch.maxDelayMs=soon').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\.maxDelayMs\)` to be a number, got `soon` \(string\)/);
    expect(error('bulk:batch.maxDelayMs').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\.maxDelayMs\)` to be a number/);
    expect(error('bulk:batch.size=9').message).toMatch(/^Expected `VECTOR_STORE_LANES \(bulk\.batch\.size\)` to be a batch option \(maxObjects, maxDelayMs\), got `size`/);
    expect(error('bulk:batch=0,batch.maxObjects=10').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\)` is off \(batch=0\) but batch options are given \(batch\.maxObjects\)/);
    expect(error('bulk:batch=maybe').message).toMatch(/`VECTOR_STORE_LANES \(bulk\.batch\)` to be a boolean/);
    expect(error('bulk:batchy.maxObjects=3').message).toMatch(/batch\.<option>/);
  });

  it('formatLanesEnv is the exact inverse of parseLanesEnv over every option', () => {
    const cases: Record<string, LaneOptions>[] = [
      {},
      { critical: {} },
      {
        critical: { weight: 8, reserved: 2, maxConcurrency: 3, maxQueue: 50, defaultDeadlineMs: 1500, dedicatedWorkers: 1, coalesce: true },
        normal: { maxQueue: 200, adaptive: { protect: ['critical', 'bulk'], tolerance: 1.3, minLimit: 2, maxLimit: 6, probeSamples: 0 }, batchWrites: { maxObjects: 500, maxDelayMs: 2.5 } },
        bulk: { weight: 0.5, adaptive: { protect: [] }, batchWrites: { maxDelayMs: 0 }, coalesce: false },
        off: { adaptive: false, batchWrites: false },
        on: { adaptive: true, batchWrites: true },
        idle: {},
      },
      // Every option of both groups at once (the resolved defaults: valid values for each).
      { normal: { adaptive: { ...resolveLanes({ normal: { adaptive: true } }, 8)[1]!.adaptive! }, batchWrites: { ...resolveLanes({ normal: { batchWrites: true } }, 8)[1]!.batchWrites! } } },
    ];
    for (const lanes of cases) {
      const text = formatLanesEnv(lanes);
      expect(parseLanesEnv(text), text).toEqual(lanes);
      expect(formatLanesEnv(parseLanesEnv(text))).toBe(text);
    }
    expect(formatLanesEnv({ bulk: { batchWrites: { maxObjects: 500, maxDelayMs: 2.5 } }, idle: {} })).toBe('bulk:batch=1,batch.maxObjects=500,batch.maxDelayMs=2.5;idle');
    // An empty options object means the defaults, as `true` does, and comes back as `true`.
    expect(parseLanesEnv(formatLanesEnv({ bulk: { batchWrites: {}, adaptive: {} } }))).toEqual({ bulk: { batchWrites: true, adaptive: true } });
  });
});

describe('scheduler with fake work', () => {
  it('critical work overtakes queued normal work', async () => {
    const h = harness(undefined, 2);
    const normals = Array.from({ length: 6 }, (_, i) => h.submit('normal', `n${i}`));
    await flush();
    expect(h.started.map((j) => j.label)).toEqual(['n0', 'n1']);
    const critical = h.submit('critical', 'c0');
    await h.finishOne();
    expect(h.started.map((j) => j.label)).toEqual(['n0', 'n1', 'c0']);
    while (h.started.some((j) => !(j as { done?: boolean }).done)) await h.finishOne();
    await expect(critical).resolves.toBe('c0');
    await Promise.all(normals);
  });

  it('normal work is not starved by a flood of critical work', async () => {
    const h = harness({ critical: { maxQueue: 10_000 } }, 1);
    const all: Promise<string>[] = [];
    for (let i = 0; i < 500; i++) all.push(h.submit('critical', `c${i}`));
    for (let i = 0; i < 200; i++) all.push(h.submit('normal', `n${i}`));
    await flush();
    const order: string[] = [];
    for (let i = 0; i < 100; i++) order.push(await h.finishOne());
    const normals = order.filter((l) => l.startsWith('n')).length;
    // Weights 4:1: one dispatch in five goes to normal while both lanes are backlogged.
    expect(normals).toBeGreaterThanOrEqual(18);
    expect(normals).toBeLessThanOrEqual(21);
    while (h.started.some((j) => !(j as { done?: boolean }).done)) await h.finishOne();
    await Promise.all(all);
  });

  it('a reserved slot lets critical work start at once while normal work floods', async () => {
    const h = harness({ critical: { reserved: 1 } }, 4);
    for (let i = 0; i < 10; i++) void h.submit('normal', `n${i}`);
    await flush();
    expect(h.started.length).toBe(3); // the fourth slot is held for critical
    void h.submit('critical', 'c0');
    await flush();
    expect(h.started.map((j) => j.label)).toContain('c0');
    expect(h.scheduler.stats().find((l) => l.name === 'normal')?.in_flight).toBe(3);
  });

  it('rejects with QueueFullError when, and only when, the lane is full', async () => {
    const h = harness({ normal: { maxQueue: 2 } }, 1);
    void h.submit('normal', 'running');
    await flush();
    const q1 = h.submit('normal', 'q1');
    const q2 = h.submit('normal', 'q2');
    const error = await h.submit('normal', 'q3').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).details).toMatchObject({ lane: 'normal', queued: 2, maxQueue: 2 });
    await h.finishOne(); // one leaves the queue: there is room again
    const q4 = h.submit('normal', 'q4');
    while (h.started.some((j) => !(j as { done?: boolean }).done)) await h.finishOne();
    await expect(Promise.all([q1, q2, q4])).resolves.toEqual(['q1', 'q2', 'q4']);
    expect(h.scheduler.stats().find((l) => l.name === 'normal')?.rejected_full).toBe(1);
  });

  it('sheds queued work whose deadline passed, before it reaches a worker; work in time is not shed', async () => {
    const h = harness(undefined, 1);
    void h.submit('normal', 'blocker');
    await flush();
    const late = h.submit('normal', 'late', 100);
    const inTime = h.submit('normal', 'in-time', 1000);
    const check = expect(late).rejects.toSatisfy((e: unknown) => e instanceof DeadlineExceededError && e.details['phase'] === 'queued');
    await h.clock.advance(99);
    expect(h.scheduler.stats().find((l) => l.name === 'normal')?.shed).toBe(0);
    await h.clock.advance(1);
    await check;
    await h.finishOne();
    expect(h.started.map((j) => j.label)).toEqual(['blocker', 'in-time']);
    await h.finishOne();
    await expect(inTime).resolves.toBe('in-time');
    expect(h.scheduler.stats().find((l) => l.name === 'normal')).toMatchObject({ shed: 1, completed: 2 });
  });

  it('a running request gets an abort signal at its deadline, and its caller is answered then', async () => {
    const h = harness(undefined, 1);
    const p = h.submit('normal', 'slow', 500);
    const check = expect(p).rejects.toSatisfy((e: unknown) => e instanceof DeadlineExceededError && e.details['phase'] === 'running');
    await flush();
    const job = h.started[0]!;
    expect(job.ctx.signal.aborted).toBe(false);
    await h.clock.advance(500);
    await check;
    expect(job.ctx.signal.aborted).toBe(true);
    // The slot stays taken until the work really ends.
    expect(h.scheduler.inFlight).toBe(1);
    await h.finishOne();
    expect(h.scheduler.inFlight).toBe(0);
  });

  it('a caller abort removes queued work and signals running work', async () => {
    const h = harness(undefined, 1);
    const c1 = new AbortController();
    const c2 = new AbortController();
    const running = h.submit('normal', 'running', 60_000, c1.signal);
    const queued = h.submit('normal', 'queued', 60_000, c2.signal);
    await flush();
    c2.abort(new Error('changed my mind'));
    await expect(queued).rejects.toBeInstanceOf(AbortError);
    c1.abort(new Error('user left'));
    await expect(running).rejects.toBeInstanceOf(AbortError);
    expect(h.started[0]!.ctx.signal.aborted).toBe(true);
    expect(h.started.map((j) => j.label)).toEqual(['running']);
  });

  it('close rejects queued work with ShutdownError and lets running work finish', async () => {
    const h = harness(undefined, 1);
    const running = h.submit('normal', 'running');
    const queued = h.submit('critical', 'queued');
    await flush();
    const closing = h.scheduler.close({ timeoutMs: 5000 });
    await expect(queued).rejects.toBeInstanceOf(ShutdownError);
    await expect(h.submit('normal', 'new')).rejects.toBeInstanceOf(ShutdownError);
    await h.finishOne();
    await closing;
    await expect(running).resolves.toBe('running');
  });
});

describe('lane memory', () => {
  it('requests shed from a lane leave its memory at once, not when the lane is next picked (5,000 shed, maxQueue 100)', async () => {
    // Through the real scheduler and p-queue: one slot taken by work that does not end, so the
    // normal lane is never picked while its queued requests pass their deadlines.
    const lanes = resolveLanes({ normal: { maxQueue: 100 } }, 1);
    const clock = new FakeClock();
    const scheduler = new Scheduler(lanes, 1, clock);
    const never = new Promise<string>(() => {});
    void scheduler.submit(() => never, { lane: 'critical', deadlineAt: 1e12 }).catch(() => {});
    await flush(2);
    let shed = 0;
    for (let wave = 0; wave < 50; wave++) {
      const batch = Array.from({ length: 100 }, () => scheduler.submit(() => never, { lane: 'normal', deadlineAt: clock.now() + 10 }).catch((e: unknown) => e));
      await clock.advance(11);
      for (const outcome of await Promise.all(batch)) if (outcome instanceof DeadlineExceededError) shed++;
    }
    expect(shed).toBe(5000);
    const normal = scheduler.laneQueue.lane('normal')!;
    expect(normal.queued).toBe(0);
    expect(normal.held()).toBe(0);
  });
});

describe('resize and reserved slots', () => {
  it('refuses (ConfigError) a slot count that leaves no slot to lanes without a reservation, and keeps serving them', async () => {
    const h = harness(undefined, 4); // critical reserves 1 of 4
    expect(h.scheduler.laneConfig('critical')!.reserved).toBe(1);
    expect(() => h.scheduler.resize(1)).toThrow(ConfigError);
    expect(h.scheduler.slots).toBe(4);
    const normal = h.submit('normal', 'n0', 500);
    await flush(3);
    expect(h.started.map((j) => j.label)).toEqual(['n0']);
    await h.finishOne();
    expect(await normal).toBe('n0');
    h.scheduler.resize(2); // one reserved, one for everyone else: allowed
    expect(h.scheduler.slots).toBe(2);
  });
});
