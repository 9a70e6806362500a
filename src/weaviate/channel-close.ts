/**
 * Close a grpc-js channel so that it never connects again.
 *
 * grpc-js 1.14.7 (the newest release on 2026-11-26): `Channel.close()` drops the channel's refs
 * on its subchannels, and a subchannel whose last ref goes moves from CONNECTING or READY to
 * IDLE (closing its socket), but not from TRANSIENT_FAILURE. A subchannel that is waiting out
 * its reconnect backoff (the server is down) and was asked to go on connecting (pick_first
 * always asks) therefore reconnects when its backoff ends, after its channel is closed: an
 * HTTP/2 connection nobody owns, established for as long as the server lives. The pool opens
 * connections exactly while a server is down and gives up on the slow ones, so every restart of
 * Weaviate could leave such sockets behind (the pool-restart test saw the OS count one socket
 * more than the pool; test/integration/channel-close.test.ts reproduces it with many opens).
 *
 * The fix reaches into grpc-js's subchannel objects (runtime fields of a pinned version; each
 * one is checked before use, and the test above fails if a new version renames them): after the
 * close, a subchannel nobody refs any more has its backoff timer stopped, forgets the request to
 * continue, and goes IDLE at once if it is in TRANSIENT_FAILURE. A subchannel that is CONNECTING
 * is left to grpc-js, which moves it to IDLE on the next tick and shuts down the transport its
 * attempt yields.
 */
import { connectivityState } from '@grpc/grpc-js';
import type { Channel } from 'nice-grpc';

interface SubchannelInternals {
  refcount?: unknown;
  connectivityState?: unknown;
  continueConnecting?: unknown;
  backoffTimeout?: { stop?: unknown };
  transitionToState?: unknown;
}

/** The subchannels of a channel built with `grpc.use_local_subchannel_pool` (its pool is its own). */
function ownSubchannels(channel: Channel): SubchannelInternals[] {
  const internal = (channel as unknown as { internalChannel?: { subchannelPool?: { pool?: unknown } } }).internalChannel;
  const pool = internal?.subchannelPool?.pool;
  if (pool === null || typeof pool !== 'object') return [];
  const found: SubchannelInternals[] = [];
  for (const entries of Object.values(pool as Record<string, unknown>)) {
    if (!Array.isArray(entries)) continue;
    for (const entry of entries as { subchannel?: unknown }[]) {
      if (entry?.subchannel !== null && typeof entry?.subchannel === 'object') found.push(entry.subchannel as SubchannelInternals);
    }
  }
  return found;
}

/** Stop a released subchannel from reconnecting after its backoff (see the file comment). */
function quiesce(sub: SubchannelInternals): void {
  if (sub.refcount !== 0) return; // still used by another channel: not ours to stop
  if (typeof sub.backoffTimeout?.stop === 'function') (sub.backoffTimeout.stop as () => void).call(sub.backoffTimeout);
  if (typeof sub.continueConnecting === 'boolean') sub.continueConnecting = false;
  if (sub.connectivityState === connectivityState.TRANSIENT_FAILURE && typeof sub.transitionToState === 'function') {
    (sub.transitionToState as (from: number[], to: number) => boolean).call(sub, [connectivityState.TRANSIENT_FAILURE], connectivityState.IDLE);
  }
}

/** `channel.close()`, and no subchannel of it connects afterwards. */
export function closeChannel(channel: Channel): void {
  const subchannels = ownSubchannels(channel); // before close(): close() empties the pool
  channel.close();
  for (const sub of subchannels) quiesce(sub);
}
