import type { Clock } from '../../src/clock.ts';
import type { ConnectionFactory, Transport } from '../../src/pool/types.ts';

export interface FakeClient {
  id: number;
  closed: boolean;
}

/** One scripted connection: tests make it fail checks or lose its socket. */
export class ScriptedTransport implements Transport<FakeClient> {
  readonly client: FakeClient;
  readonly node = 'fake:1';
  healthy = true;
  /** A check that never answers (a black hole); the pool's own bound must end it. */
  hangs = false;
  checks = 0;
  #onLost: ((reason: string) => void) | undefined;
  constructor(id: number) {
    this.client = { id, closed: false };
  }
  check(signal: AbortSignal): Promise<void> {
    this.checks++;
    if (this.hangs) return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }));
    return this.healthy ? Promise.resolve() : Promise.reject(new Error('UNAVAILABLE: scripted failure'));
  }
  onDisconnect(callback: (reason: string) => void): void {
    this.#onLost = callback;
  }
  lose(reason = 'scripted socket loss'): void {
    this.#onLost?.(reason);
  }
  close(): Promise<void> {
    this.client.closed = true;
    return Promise.resolve();
  }
}

/**
 * Opens ScriptedTransports after `connectDelayMs` of the fake clock. `down = true` makes every
 * open fail (a server that is gone); `failNext` fails that many opens.
 */
export class ScriptedFactory implements ConnectionFactory<FakeClient> {
  readonly opened: ScriptedTransport[] = [];
  attempts = 0;
  down = false;
  failNext = 0;
  connectDelayMs = 0;
  readonly #clock: Clock;
  constructor(clock: Clock) {
    this.#clock = clock;
  }
  describe(): string {
    return 'scripted://fake';
  }
  create(signal: AbortSignal): Promise<Transport<FakeClient>> {
    this.attempts++;
    return new Promise((resolve, reject) => {
      const finish = () => {
        if (signal.aborted) return reject(signal.reason);
        if (this.down || this.failNext > 0) {
          if (this.failNext > 0) this.failNext--;
          return reject(new Error('ECONNREFUSED: scripted'));
        }
        const t = new ScriptedTransport(this.opened.length + 1);
        this.opened.push(t);
        resolve(t);
      };
      if (this.connectDelayMs === 0) queueMicrotask(finish);
      else {
        const timer = this.#clock.setTimeout(finish, this.connectDelayMs);
        signal.addEventListener('abort', () => {
          this.#clock.clearTimeout(timer);
          reject(signal.reason);
        }, { once: true });
      }
    });
  }
  /** Transports still open. */
  get open(): ScriptedTransport[] {
    return this.opened.filter((t) => !t.client.closed);
  }
}
