/**
 * A TCP proxy of the tests' own between the engine and Weaviate, in the spirit of toxiproxy:
 * it adds latency, limits capacity (one chunk towards the server at a time), stalls (holds every
 * byte until released), or resets every connection on command. Real sockets on both sides.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

interface Pair {
  id: number;
  client: Socket;
  upstream: Socket;
}

/**
 * Sees the bytes each side sent, as the client sees them: a chunk towards the server ('up') when
 * it arrives from the client, a chunk towards the client ('down') when it is written to the client;
 * and each connection's end.
 */
export interface ProxyTap {
  chunk(direction: 'up' | 'down', connection: number, chunk: Buffer): void;
  closed(connection: number): void;
}

export class ToxicProxy {
  readonly targetHost: string;
  readonly targetPort: number;
  /** Delay added to every chunk, in both directions, counted from its arrival (order is kept). */
  latencyMs = 0;
  /**
   * Capacity: chunks towards the server pass one at a time, each holding the line this long, across
   * all connections (0: no limit). A node behind it serves like one with a fixed capacity: its
   * latency grows with the requests it is given (queueing), unlike `latencyMs` (a longer path).
   */
  serviceMs = 0;
  /** Optional observer of the bytes passed on (tests count HTTP/2 streams with it). */
  tap: ProxyTap | undefined;
  #lineFreeAt = 0;
  #nextId = 0;
  #stalled = false;
  #held: (() => void)[] = [];
  #server: Server | undefined;
  readonly #pairs = new Set<Pair>();
  accepted = 0;

  constructor(targetHost: string, targetPort: number) {
    this.targetHost = targetHost;
    this.targetPort = targetPort;
  }

  get port(): number {
    const a = this.#server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get connections(): number {
    return this.#pairs.size;
  }

  async start(): Promise<number> {
    this.#server = createServer((client) => this.#accept(client));
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', () => resolve()));
    return this.port;
  }

  #accept(client: Socket): void {
    this.accepted++;
    const upstream = connect(this.targetPort, this.targetHost);
    const pair: Pair = { id: this.#nextId++, client, upstream };
    this.#pairs.add(pair);
    let ended = false;
    const end = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
      if (!ended) {
        ended = true;
        this.tap?.closed(pair.id);
      }
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
    this.#forward(client, upstream, 'up', pair.id);
    this.#forward(upstream, client, 'down', pair.id);
  }

  #forward(from: Socket, to: Socket, direction: 'up' | 'down', id: number): void {
    let chain = Promise.resolve();
    from.on('data', (chunk: Buffer) => {
      if (direction === 'up') this.tap?.chunk('up', id, chunk);
      // Each chunk is due `latencyMs` after it ARRIVED (pure latency): waiting the full delay after
      // the previous chunk's delay would also cap the connection at one chunk per delay (a slow
      // AND throttled link). Order is kept: chunks go out in arrival order, none before it is due.
      let due = performance.now() + this.latencyMs;
      if (direction === 'up' && this.serviceMs > 0) {
        // One chunk on the line at a time (all connections): it waits for the line, then holds it.
        this.#lineFreeAt = Math.max(due, this.#lineFreeAt) + this.serviceMs;
        due = this.#lineFreeAt;
      }
      chain = chain
        .then(() => {
          const wait = due - performance.now();
          return wait > 0 ? new Promise<void>((r) => setTimeout(r, wait)) : undefined;
        })
        .then(() => (this.#stalled ? new Promise<void>((r) => this.#held.push(r)) : undefined))
        .then(() => {
          if (to.destroyed) return;
          if (direction === 'down') this.tap?.chunk('down', id, chunk);
          to.write(chunk);
        });
    });
  }

  /** Hold every byte in both directions (sockets stay open: a black hole) until resume(). */
  stall(): void {
    this.#stalled = true;
  }

  resume(): void {
    this.#stalled = false;
    for (const release of this.#held.splice(0)) release();
  }

  /** Reset every connection now (RST to both sides), as a load balancer dropping them would. */
  resetAll(): number {
    const n = this.#pairs.size;
    for (const { client, upstream } of [...this.#pairs]) {
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    }
    this.#pairs.clear();
    return n;
  }

  async close(): Promise<void> {
    this.resume();
    this.resetAll();
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
  }
}
