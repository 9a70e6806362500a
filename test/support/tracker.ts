/**
 * Follows every request a fault test sends: its outcome (ok, or the error code), and whether it
 * settled by its deadline plus a grace. A request still pending after that is "hung" (the
 * guarantees say there must be none). Rows go to the fault summary table.
 */
import { appendFileSync } from 'node:fs';
import { inject } from 'vitest';

export interface FaultRow {
  fault: string;
  sent: number;
  succeeded: number;
  failedByCode: Record<string, number>;
  hung: number;
  /** Late: settled, but after deadline + grace. */
  late: number;
  recoveryMs: number | null;
  notes?: string;
}

export class Tracker {
  sent = 0;
  succeeded = 0;
  late = 0;
  readonly failedByCode: Record<string, number> = {};
  readonly #pending = new Map<number, { startedAt: number; deadlineMs: number }>();
  #next = 0;
  readonly graceMs: number;

  constructor(graceMs = 500) {
    this.graceMs = graceMs;
  }

  track<T>(promise: Promise<T>, deadlineMs: number): Promise<T | undefined> {
    const id = this.#next++;
    this.sent++;
    const startedAt = performance.now();
    this.#pending.set(id, { startedAt, deadlineMs });
    const done = () => {
      this.#pending.delete(id);
      if (performance.now() - startedAt > deadlineMs + this.graceMs) this.late++;
    };
    return promise.then(
      (value) => {
        done();
        this.succeeded++;
        return value;
      },
      (error: unknown) => {
        done();
        const code = (error as { code?: string })?.code ?? `untyped:${(error as Error)?.name}`;
        this.failedByCode[code] = (this.failedByCode[code] ?? 0) + 1;
        return undefined;
      },
    );
  }

  /** Requests still pending past their deadline + grace (call after the load has stopped). */
  async hung(waitMs = 2000): Promise<number> {
    const until = performance.now() + waitMs;
    while (performance.now() < until) {
      const now = performance.now();
      const overdue = [...this.#pending.values()].filter((p) => now - p.startedAt > p.deadlineMs + this.graceMs).length;
      if (this.#pending.size === 0 || overdue === this.#pending.size) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const now = performance.now();
    return [...this.#pending.values()].filter((p) => now - p.startedAt > p.deadlineMs + this.graceMs).length;
  }

  row(fault: string, hung: number, recoveryMs: number | null, notes?: string): FaultRow {
    return { fault, sent: this.sent, succeeded: this.succeeded, failedByCode: { ...this.failedByCode }, hung, late: this.late, recoveryMs, ...(notes ? { notes } : {}) };
  }
}

/** Append a row to the run's fault report (printed as one table when the integration run ends). */
export function reportFault(row: FaultRow): void {
  const file = inject('faultReport');
  if (file) appendFileSync(file, `${JSON.stringify(row)}\n`);
  console.log(`[fault] ${JSON.stringify(row)}`);
}

export function faultTable(rows: FaultRow[]): string {
  const codes = (r: FaultRow) => Object.entries(r.failedByCode).map(([c, n]) => `${c} ${n}`).join(', ') || '-';
  return [
    '| fault | sent | succeeded | failed by code | hung | late | recovery |',
    '|---|---:|---:|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.fault} | ${r.sent} | ${r.succeeded} | ${codes(r)} | ${r.hung} | ${r.late} | ${r.recoveryMs === null ? '-' : `${(r.recoveryMs / 1000).toFixed(2)} s`} |`),
  ].join('\n');
}
