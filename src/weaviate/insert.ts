/**
 * `insertMany` on a pooled connection without weaviate-client's 500 ms wait.
 *
 * weaviate-client 3.14's `collection.data.insertMany` serializes the objects one per
 * `setTimeout` tick and polls for the end of that every 500 ms (`Serialize.batchObjects` in
 * its collections/serialize/index.js), so an insert of 2 or more objects takes at least 500 ms
 * whatever Weaviate does (measured through the engine: 1 object 4.6 ms, 2 objects 541 ms, 100
 * objects 511 ms; REST batches of the same objects 2-18 ms; bench/RESULTS.md). For a write lane
 * and for write micro-batching that wait is the whole cost.
 *
 * This does what `insertMany` does, with the same pieces of weaviate-client (its per-object
 * `Serialize.batchObject`, the connection's own `batch()` with its auth and time-out, its
 * `Deserialize.batchObjects`), but serializes in one synchronous pass: the objects of one
 * insert are bounded by the spec's validation, and the engine runs inserts on worker threads.
 * A pooled connection registers it (src/weaviate/client.ts); `inserterOf` finds it, and a
 * client that did not register (a stock weaviate-client) keeps `collection.data.insertMany`.
 * test/integration/insert-path.test.ts compares the two on the real Weaviate.
 */

/** One object as `collection.data.insertMany` takes it. */
export interface InsertObject {
  id?: string;
  properties: Record<string, unknown>;
  vectors?: number[] | Record<string, number[]>;
}

/** weaviate-client's BatchReturn (the subset the engine reads). */
export interface BatchReturn {
  uuids: Record<number, string>;
  errors: Record<number, { message: string }>;
}

export type Inserter = (collection: string, objects: readonly InsertObject[], options: { tenant?: string; consistencyLevel?: string }) => Promise<BatchReturn>;

/** The pieces of weaviate-client this needs (loaded from its package folder by client.ts). */
export interface InsertInternals {
  Serialize: { batchObject(collection: string, obj: InsertObject, requiresInsertFix: boolean, tenant: string | undefined): { grpc: unknown; object: unknown } };
  Deserialize: { batchObjects(reply: unknown, originalObjs: unknown[], mappedObjs: unknown[], elapsed: number): BatchReturn };
}

interface BatchConnection {
  batch(collection: string, consistencyLevel?: string, tenant?: string): Promise<{ withObjects(args: { objects: unknown[] }): Promise<unknown> }>;
}

interface DbVersion {
  isAtLeast(major: number, minor: number, patch?: number): boolean;
  isLowerThan(major: number, minor: number, patch: number): boolean;
}

/**
 * weaviate-client's `requiresNamedVectorsInsertFix` (utils/dbVersion.js): servers in these
 * ranges need the vector sent both ways.
 */
function requiresInsertFix(v: DbVersion): boolean {
  return (
    (v.isAtLeast(1, 24, 0) && v.isLowerThan(1, 24, 26)) ||
    (v.isAtLeast(1, 25, 0) && v.isLowerThan(1, 25, 22)) ||
    (v.isAtLeast(1, 26, 0) && v.isLowerThan(1, 26, 8)) ||
    (v.isAtLeast(1, 27, 0) && v.isLowerThan(1, 27, 1))
  );
}

export function makeInserter(
  mods: InsertInternals,
  connection: BatchConnection,
  version: () => Promise<DbVersion>,
): Inserter {
  return async (collection, objects, { tenant, consistencyLevel }) => {
    const fix = requiresInsertFix(await version());
    const grpc: unknown[] = [];
    const originals: unknown[] = [];
    for (const obj of objects) {
      const mapped = mods.Serialize.batchObject(collection, obj, fix, tenant);
      grpc.push(mapped.grpc);
      originals.push(mapped.object);
    }
    const batch = await connection.batch(collection, consistencyLevel);
    const start = Date.now();
    const reply = await batch.withObjects({ objects: grpc });
    return mods.Deserialize.batchObjects(reply, originals, grpc, (Date.now() - start) / 1000);
  };
}

const inserters = new WeakMap<object, Inserter>();

export function registerInserter(client: object, inserter: Inserter): void {
  inserters.set(client, inserter);
}

export function inserterOf(client: object): Inserter | undefined {
  return inserters.get(client);
}
