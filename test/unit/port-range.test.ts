/**
 * The launcher's ports (src/launcher/node.ts): chosen below the kernel's ephemeral range, since a
 * node restarted after a kill keeps its ports and an ephemeral port can meanwhile be the local end
 * of any outgoing connection. Pure logic; no server.
 */
import { describe, expect, it } from 'vitest';
import { freePortBlock, portRange } from '../../src/launcher/node.ts';

describe('launcher ports', () => {
  it('come from below the ephemeral range the kernel states, else 20000-32767', () => {
    expect(portRange(() => '32768\t60999\n')).toEqual({ from: 10_000, to: 32_768 });
    expect(portRange(() => '40000 60999')).toEqual({ from: 10_000, to: 40_000 });
    // A range that starts too low to leave room below it, unreadable, or not Linux: the fallback.
    expect(portRange(() => '1024 65535')).toEqual({ from: 20_000, to: 32_768 });
    expect(portRange(() => 'garbage')).toEqual({ from: 20_000, to: 32_768 });
    expect(portRange(() => { throw new Error('ENOENT'); })).toEqual({ from: 20_000, to: 32_768 });
  });

  it('hands out a block that lies wholly within the range', async () => {
    const { from, to } = portRange();
    for (let i = 0; i < 5; i++) {
      const base = await freePortBlock(6);
      expect(base).toBeGreaterThanOrEqual(from);
      expect(base + 6).toBeLessThanOrEqual(to);
    }
  });
});
