/**
 * Counts the gRPC calls in flight through a ToxicProxy, at the wire: an HTTP/2 stream opened by
 * the client (HEADERS on a new stream id) is in flight until the server ends it (END_STREAM on its
 * HEADERS or DATA: gRPC's trailers) or either side resets it (RST_STREAM), or its connection
 * closes. Plaintext HTTP/2 only (the tests' nodes). What the engine says it sends is checked
 * against this count, not against its own counters.
 */
import type { ProxyTap } from '../../src/launcher/toxic-proxy.ts';

const PREFACE = 24; // 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'
const DATA = 0x0;
const HEADERS = 0x1;
const RST_STREAM = 0x3;
const END_STREAM = 0x1;

interface Parser {
  buffer: Buffer;
  prefaceLeft: number;
}

export class H2StreamCounter implements ProxyTap {
  readonly #parsers = new Map<string, Parser>();
  readonly #open = new Map<number, Set<number>>();
  /** Streams in flight now, all connections. */
  inFlight = 0;
  /** Most in flight at once since the last `takePeak()`. */
  #peak = 0;
  /** Streams opened since start. */
  opened = 0;

  /** The peak since the last call (then restarts from the count now). */
  takePeak(): number {
    const p = this.#peak;
    this.#peak = this.inFlight;
    return p;
  }

  chunk(direction: 'up' | 'down', connection: number, chunk: Buffer): void {
    const key = `${connection}:${direction}`;
    let p = this.#parsers.get(key);
    if (!p) this.#parsers.set(key, (p = { buffer: Buffer.alloc(0), prefaceLeft: direction === 'up' ? PREFACE : 0 }));
    p.buffer = p.buffer.length === 0 ? chunk : Buffer.concat([p.buffer, chunk]);
    if (p.prefaceLeft > 0) {
      const skip = Math.min(p.prefaceLeft, p.buffer.length);
      p.prefaceLeft -= skip;
      p.buffer = p.buffer.subarray(skip);
    }
    while (p.buffer.length >= 9) {
      const length = p.buffer.readUIntBE(0, 3);
      if (p.buffer.length < 9 + length) break;
      const type = p.buffer[3]!;
      const flags = p.buffer[4]!;
      const stream = p.buffer.readUInt32BE(5) & 0x7fffffff;
      p.buffer = p.buffer.subarray(9 + length);
      if (stream === 0) continue;
      if (direction === 'up' && type === HEADERS) this.#start(connection, stream);
      else if (type === RST_STREAM) this.#end(connection, stream);
      else if (direction === 'down' && (type === HEADERS || type === DATA) && (flags & END_STREAM) !== 0) this.#end(connection, stream);
    }
  }

  closed(connection: number): void {
    const open = this.#open.get(connection);
    if (open) this.inFlight -= open.size;
    this.#open.delete(connection);
    this.#parsers.delete(`${connection}:up`);
    this.#parsers.delete(`${connection}:down`);
  }

  #start(connection: number, stream: number): void {
    let open = this.#open.get(connection);
    if (!open) this.#open.set(connection, (open = new Set()));
    if (open.has(stream)) return; // a second HEADERS block of the same stream (trailers): not a new call
    open.add(stream);
    this.opened++;
    this.inFlight++;
    this.#peak = Math.max(this.#peak, this.inFlight);
  }

  #end(connection: number, stream: number): void {
    if (this.#open.get(connection)?.delete(stream)) this.inFlight--;
  }
}
