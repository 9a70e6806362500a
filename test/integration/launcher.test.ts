/**
 * The launcher beyond the shared node: a 3-node cluster, a node with API-key authentication,
 * a start that fails (with its log tail), and nothing left behind after stop().
 */
import { existsSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ensureSampleData } from '../../src/data/load.ts';
import { startCluster, startWeaviate } from '../../src/launcher/node.ts';
import { MemoryLogger } from '../../src/log.ts';
import { createPool } from '../../src/pool/create.ts';
import { startLoadedNode } from '../support/loaded-node.ts';
import { rejectionOf } from '../support/rejection.ts';

/** LSM segment files (`*.db`) under a node's data folder, counted on disk. */
function segmentFiles(dir: string): number {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.db') && !f.startsWith('raft')).length;
}

function alive(pid: number | undefined): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('launcher', () => {
  it('starts a 3-node cluster on localhost that forms, serves every node, and stops clean', async () => {
    const cluster = await startCluster({ stopTimeoutMs: 5000 });
    const pids = cluster.nodes.map((n) => n.pid);
    try {
      expect(new Set(cluster.nodes.map((n) => n.httpPort)).size).toBe(3);
      for (const node of cluster.nodes) {
        const pool = await createPool({ weaviate: node.target, minConnections: 1, maxConnections: 1 });
        try {
          const nodes = await pool.withConnection((c) => c.cluster.nodes());
          expect(nodes.map((n) => n.name).sort()).toEqual(['n1', 'n2', 'n3']);
          expect(nodes.every((n) => n.status === 'HEALTHY')).toBe(true);
        } finally {
          await pool.close();
        }
      }
    } finally {
      await cluster.stop();
    }
    expect(pids.some(alive)).toBe(false);
    expect(cluster.nodes.some((n) => existsSync(n.runDir))).toBe(false);
  });

  it('starts a node with API-key auth; the key works and never shows in errors, stats or logs', async () => {
    const key = 'wx-test-key-6f1c2b9a7d';
    const node = await startWeaviate({ apiKey: { key }, stopTimeoutMs: 5000 });
    try {
      const { apiKey: _omit, ...noKey } = node.target;
      await expect(createPool({ weaviate: noKey, minConnections: 1 })).rejects.toMatchObject({
        code: 'WEX_CONNECT_FAILED',
        message: expect.stringMatching(/refused the credentials \(HTTP 401\)/),
      });
      const logger = new MemoryLogger();
      const pool = await createPool({ weaviate: node.target, minConnections: 2, maxConnections: 2, logger });
      try {
        const collections = await pool.withConnection((c) => c.collections.listAll());
        expect(Array.isArray(collections)).toBe(true);
        const failure = await pool
          .withConnection((c) => c.collections.use('Nope_not_here').query.bm25('x'))
          .catch((e: unknown) => e as Error);
        expect(failure).toBeInstanceOf(Error);
        const surfaces = [
          JSON.stringify(pool.stats()),
          JSON.stringify(pool.connections()),
          JSON.stringify(logger.lines),
          String((failure as Error).message),
          String((failure as Error).stack),
        ];
        for (const text of surfaces) expect(text).not.toContain(key);
      } finally {
        await pool.close();
      }
    } finally {
      await node.stop();
    }
  });

  it('restart() stops cleanly and serves the same data on the same ports; the clean stop wrote the fresh load out to segment files', async () => {
    // No timed flush during the test: segment files can only come from the clean stop.
    const node = await startLoadedNode(200, { env: { PERSISTENCE_MEMTABLES_FLUSH_DIRTY_AFTER_SECONDS: '3600' } });
    try {
      const before = { pid: node.pid, http: node.httpPort, grpc: node.grpcPort, segments: segmentFiles(node.dataDir) };
      await node.restart();
      expect(alive(before.pid)).toBe(false);
      expect(node.pid).not.toBe(before.pid);
      expect([node.httpPort, node.grpcPort]).toEqual([before.http, before.grpc]);
      expect(segmentFiles(node.dataDir)).toBeGreaterThan(before.segments);
      const pool = await createPool({ weaviate: node.target, minConnections: 1, maxConnections: 1 });
      try {
        const again = await pool.withConnection((c) => ensureSampleData(c, { count: 200 }));
        expect(again).toMatchObject({ created: false, objects: 200 });
      } finally {
        await pool.close();
      }
    } finally {
      await node.stop();
    }
  });

  it('a node that cannot start fails with its log tail, and leaves no process', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await rejectionOf(startWeaviate({ httpPort: port, readyTimeoutMs: 30_000 }));
      expect(error).toMatchObject({ code: 'WEX_WEAVIATE_START_FAILED' });
      expect(String(error.message)).toMatch(/address already in use/);
    } finally {
      blocker.close();
    }
  });
});
