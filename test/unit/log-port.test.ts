/** Worker log records cross a real MessagePort: level filter, redaction before crossing, unclonable parts dropped. */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { forwardLogs, portLogger } from '../../src/engine/log-port.ts';
import { MemoryLogger } from '../../src/log.ts';
import { registerSecret } from '../../src/redact.ts';

describe('worker log port', () => {
  it('forwards records at or above the level, redacted, to the main-thread logger', async () => {
    const secret = 'log-port-secret-4f3e2d1c';
    registerSecret(secret);
    const { port1, port2 } = new MessageChannel();
    const logger = new MemoryLogger();
    forwardLogs(port2, logger);
    const worker = portLogger(port1, 'warn', { worker: 7 });
    worker.debug({ n: 1 }, 'dropped: below warn');
    worker.info({ n: 2 }, 'dropped too');
    worker.warn({ apiKey: secret, fn: () => 1, nested: { note: `key ${secret}` } }, `leak with ${secret}`);
    worker.error({ n: 4 }, 'broken');
    await new Promise((r) => setTimeout(r, 50));
    expect(logger.lines.map((l) => l.level)).toEqual(['warn', 'error']);
    expect(JSON.stringify(logger.lines)).not.toContain(secret);
    expect(logger.lines[0]!.obj).toMatchObject({ worker: 7 });
    expect(logger.lines[0]!.obj).not.toHaveProperty('fn');
    expect(logger.lines[1]).toMatchObject({ msg: 'broken', obj: { worker: 7, n: 4 } });
    port1.close();
  });
});
