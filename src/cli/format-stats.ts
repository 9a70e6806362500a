/**
 * `weaviate-executor stats`: the stats snapshot (docs/stats.md) as a page a person reads: the
 * engine line, one row per lane (with the limit in force and where it comes from), one row per
 * worker, one row per Weaviate node when there are several, errors by code. A pure function of the snapshot.
 */
import type { AdaptiveLimitSnapshot } from '../engine/adaptive-limit.ts';
import type { EngineStats } from '../engine/stats.ts';
import { mergeNodeLimit, mergeNodes } from '../stats/nodes.ts';

const num = (x: number | null | undefined, digits = 0) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(digits));
const msOf = (us: number | undefined) => (us === undefined || !Number.isFinite(us) ? '-' : (us / 1000).toFixed(1));

/** Columns padded to their widest cell: the first `left` columns (names, states) left-aligned, figures right-aligned. */
function table(head: string[], rows: string[][], left = 1): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < left ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)];
}

/** The limit a lane runs under now and what sets it: `4 adaptive`, `2 cap`, `8 workers`, `-`. */
export function laneLimit(l: EngineStats['lanes'][string]): string {
  const limits: [number, string][] = [];
  if (l.max_concurrency !== null) limits.push([l.max_concurrency, 'cap']);
  if (l.slot_cap !== null) limits.push([l.slot_cap, 'workers']);
  if (l.adaptive) limits.push([l.adaptive.limit, 'adaptive']);
  if (limits.length === 0) return '-';
  const [value, source] = limits.reduce((a, b) => (b[0] < a[0] ? b : a));
  return `${value} ${source}`;
}

/**
 * An adaptive lane's limit, its inputs and its last change; with the tail guard (`protect`), a
 * second line: the protected p99 at its last decision against its target (and the base it came
 * from), its ceiling over the limit, its decisions and cuts.
 */
export function adaptiveLines(lane: string, a: AdaptiveLimitSnapshot): string[] {
  const last = a.recent_changes.at(-1);
  const lines = [
    `${lane}: limit ${a.limit} (${a.min_limit}..${a.max_limit}, estimate ${num(a.estimate, 2)})${a.probing ? ', probing' : ''}, ` +
      `RTT short ${num(a.short_rtt_ms, 1)} / long ${num(a.long_rtt_ms, 1)} / no-load ${num(a.no_load_rtt_ms, 1)} ms, gradient ${num(a.gradient, 2)}, ` +
      `${a.changes} change(s)${last ? `, last ${last.from} -> ${last.to} (${last.reason})` : ''}, ${a.probes} probe(s)`,
  ];
  if (a.guard_ceiling !== undefined) {
    lines.push(
      `  tail guard: protected p99 ${num(a.guard_tail_ms, 1)} ms vs target ${num(a.guard_target_ms, 1)} ms (base ${num(a.guard_base_ms, 1)} ms), ` +
        `ceiling ${num(a.guard_ceiling, 2)} slots, ${a.guard_decisions ?? 0} decision(s), ${a.guard_cuts ?? 0} cut(s)` +
        `${a.guard_retry_in_ms ? `, next step up in ${(a.guard_retry_in_ms / 1000).toFixed(1)} s` : ''}`,
    );
  }
  return lines;
}

/**
 * Several Weaviate nodes: one row per node, merged over workers as the Prometheus exporter does
 * (src/stats/nodes.ts): connections, outstanding requests, ejections, adaptive limits and the
 * callers queued for each node's limit (`slot_waiting`) summed,
 * latencies the mean; why a node is not healthy under the table; callers waiting for a node
 * below its limit. Nothing (no lines) with a single node.
 */
export function nodeLines(workers: EngineStats['workers']): string[] {
  const nodes = mergeNodes(workers);
  if (nodes.length === 0) return [];
  const reporting = Math.max(...nodes.map((n) => n.workers));
  const adaptive = nodes.some((n) => n.adaptive);
  const out = [`Nodes (${nodes.length}; over ${reporting} worker(s): counts and limits summed, latencies their mean, ms)`];
  out.push(
    ...table(
      ['node', 'state', 'connections', 'outstanding', 'latency EWMA', 'ejections', ...(adaptive ? ['limit', 'slot waiting', 'RTT short', 'RTT long', 'limit changes'] : [])],
      nodes.map((n) => [
        n.node, n.state, String(n.connections), String(n.outstanding), num(n.latency_ewma_ms, 1), String(n.total_ejections),
        ...(adaptive
          ? n.adaptive
            ? [`${n.adaptive.limit}${n.adaptive.probing ? ' probing' : ''}`, String(n.slot_waiting), num(n.adaptive.short_rtt_ms, 1), num(n.adaptive.long_rtt_ms, 1), String(n.adaptive.changes)]
            : ['-', '-', '-', '-', '-']
          : []),
      ]),
      2,
    ).map((x) => `  ${x}`),
  );
  for (const n of nodes) if (n.health.healthy < n.workers && n.last_reason) out.push(`  ${n.node}: ${n.last_reason}`);
  const limit = mergeNodeLimit(workers);
  if (limit) out.push(`  Node limits (nodeAdaptive): ${limit.waiting} waiting for a node below its limit now, ${limit.waited} waited since start, ${limit.timeouts} timed out`);
  return out;
}

export function formatStats(s: EngineStats): string {
  const out: string[] = [];
  const c = s.counters;
  out.push(`Engine: ${s.mode}, ${s.worker_count} worker(s); connections ${s.total_connections} open (${s.current_active} active, ${s.current_idle} idle), min ${s.min_connections}, max ${s.max_connections}; slots ${s.slots}`);
  out.push(`Requests: ${s.total_requests} (completed ${c.completed}, failed ${c.failed}, shed ${c.shed}, rejected ${c.rejected_full}, aborted ${c.aborted}, invalid ${c.validation_errors}); avg wait ${(s.avg_wait_time * 1000).toFixed(2)} ms; main loop p99 ${msOf(s.main_event_loop_delay_p99_us)} ms`);
  out.push('', 'Lanes (latency: submit to end, ms)');
  out.push(
    ...table(
      ['lane', 'queued', 'in flight', 'limit', 'p50', 'p99', 'completed', 'failed', 'shed', 'rejected'],
      Object.values(s.lanes).map((l) => [
        l.name, String(l.queued), String(l.in_flight), laneLimit(l), msOf(l.end_to_end.p50_us), msOf(l.end_to_end.p99_us),
        String(l.completed), String(l.failed), String(l.shed), String(l.rejected_full),
      ]),
    ).map((x) => `  ${x}`),
  );
  const adaptive = Object.values(s.lanes).filter((l) => l.adaptive);
  if (adaptive.length) {
    out.push('', 'Adaptive limits');
    for (const l of adaptive) out.push(...adaptiveLines(l.name, l.adaptive!).map((x) => `  ${x}`));
  }
  const coalesced = Object.values(s.lanes).filter((l) => (l.coalesced ?? 0) > 0);
  if (coalesced.length) out.push('', `Coalesced reads: ${coalesced.map((l) => `${l.name} ${l.coalesced}`).join(', ')}`);
  const batched = Object.values(s.lanes).filter((l) => l.write_batches);
  if (batched.length) out.push('', `Write batches: ${batched.map((l) => `${l.name} ${l.write_batches!.batches} sent, ${l.write_batches!.joined} joined`).join('; ')}`);
  if (s.query_costs) {
    out.push('', `Query costs (cost-aware lanes): ${Object.entries(s.query_costs).map(([k, c]) => `${k} ${c.min_ms.toFixed(2)} ms (min; mean ${c.avg_ms.toFixed(2)}) = ${c.cost.toFixed(2)}`).join(', ') || 'none measured yet'}`);
  }
  if (s.workers.length) {
    out.push('', 'Workers');
    out.push(
      ...table(
        ['thread', 'ready', 'in flight', 'connections', 'active', 'idle', 'completed', 'failed', 'loop p99 ms'],
        s.workers.map((w) => [
          String(w.thread_id), w.ready ? (w.responsive ? 'yes' : 'silent') : 'no', String(w.in_flight), String(w.pool?.total_connections ?? '-'),
          String(w.pool?.current_active ?? '-'), String(w.pool?.current_idle ?? '-'), String(w.completed), String(w.failed), msOf(w.event_loop_delay_p99_us),
        ]),
      ).map((x) => `  ${x}`),
    );
  }
  const nodes = nodeLines(s.workers);
  if (nodes.length) out.push('', ...nodes);
  const errors = Object.entries(c.errors_by_code).sort((a, b) => b[1] - a[1]);
  out.push('', errors.length ? 'Errors by code' : 'Errors by code: none');
  for (const [code, n] of errors) out.push(`  ${code.padEnd(28)} ${n}`);
  return out.join('\n');
}
