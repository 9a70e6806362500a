/**
 * What the main thread knows about collections, to validate specs before they are queued:
 * property names and types from `GET /v1/schema`, and vector dimensions (declared by the user,
 * or learnt from one stored object, since Weaviate does not record the dimension of
 * self-provided vectors in the schema).
 *
 * Freshness: a spec naming a collection we do not know waits for a schema read that STARTED
 * after the spec arrived (`refreshAfter`), so a collection created a moment ago (by a task, by
 * another service) is found. Reads are coalesced (every miss waiting at once shares one) and
 * spaced (`minMissGapMs` between starts), so a flood of misses costs a bounded number of reads.
 * Vector dimensions unknown so far (the collection was empty when first seen) are learnt when
 * they appear: from every insertMany that went through the engine (`noteVectors`), and by a
 * background re-read when a vector query meets a collection whose dimensions are unknown
 * (spaced by `minRefreshIntervalMs`).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { httpGet } from '../weaviate/http-get.ts';
import { authHeaders, restOrigin, type WeaviateTarget } from '../weaviate/target.ts';

export interface CollectionShape {
  /** The stored name (Weaviate capitalises the first letter). */
  name: string;
  /** Property name -> Weaviate data type (`text`, `int`, `number`, `date`, `text[]`, ...). */
  properties: Record<string, string>;
  /** Vector name (`default` for the unnamed one) -> dimensions, where known. */
  vectorDimensions: Record<string, number>;
  /** Whether Weaviate can embed query text itself (a vectorizer module other than `none`). */
  hasVectorizer: boolean;
  /** Whether `isNull` filters work (invertedIndexConfig.indexNullState). */
  nullStateIndexed: boolean;
}

export interface DeclaredCollection {
  /** Dimensions of the collection's vectors, by vector name (`default` for the unnamed one). */
  vectorDimensions?: Record<string, number>;
}

/** Weaviate stores `m_asset_schema` as `M_asset_schema`. */
export function storedName(collection: string): string {
  return collection.charAt(0).toUpperCase() + collection.slice(1);
}

interface RawClass {
  class: string;
  properties?: { name: string; dataType: string[] }[];
  vectorizer?: string;
  vectorConfig?: Record<string, { vectorizer?: Record<string, unknown> }>;
  invertedIndexConfig?: { indexNullState?: boolean };
}

function hasVectorizer(cls: RawClass): boolean {
  if (cls.vectorizer && cls.vectorizer !== 'none') return true;
  return Object.values(cls.vectorConfig ?? {}).some((c) => Object.keys(c.vectorizer ?? {}).some((name) => name !== 'none'));
}

export class SchemaRegistry {
  readonly #target: Readonly<WeaviateTarget>;
  readonly #declared: Record<string, DeclaredCollection>;
  readonly #timeoutMs: number;
  readonly #minRefreshIntervalMs: number;
  readonly #minMissGapMs: number;
  #shapes = new Map<string, CollectionShape>();
  #lastRefresh = -Infinity;
  /** When the read under way (or, if none, the last one) started. */
  #startedAt = -Infinity;
  #refreshing: Promise<void> | undefined;

  constructor(
    target: Readonly<WeaviateTarget>,
    {
      declared = {}, timeoutMs = 5000, minRefreshIntervalMs = 1000, minMissGapMs = 50,
    }: { declared?: Record<string, DeclaredCollection>; timeoutMs?: number; minRefreshIntervalMs?: number; minMissGapMs?: number } = {},
  ) {
    this.#target = target;
    this.#declared = Object.fromEntries(Object.entries(declared).map(([k, v]) => [storedName(k), v]));
    this.#timeoutMs = timeoutMs;
    this.#minRefreshIntervalMs = minRefreshIntervalMs;
    this.#minMissGapMs = minMissGapMs;
  }

  shapeOf(collection: string): CollectionShape | undefined {
    return this.#shapes.get(storedName(collection));
  }

  get collections(): string[] {
    return [...this.#shapes.keys()];
  }

  get loaded(): boolean {
    return this.#lastRefresh > -Infinity;
  }

  /** Re-read the schema now (or join a refresh under way); rate-limited unless `force`. */
  refresh(force = false): Promise<void> {
    if (this.#refreshing) return this.#refreshing;
    if (!force && performance.now() - this.#lastRefresh < this.#minRefreshIntervalMs) return Promise.resolve();
    return this.#start();
  }

  /**
   * Resolve once a schema read that started at or after `since` (performance.now()) has
   * finished: join one under way, or start one, at least `minMissGapMs` after the previous
   * start. Rejects when that read fails.
   */
  async refreshAfter(since: number): Promise<void> {
    for (;;) {
      if (this.#refreshing) {
        if (this.#startedAt >= since) return this.#refreshing;
        await this.#refreshing.catch(() => {});
        continue;
      }
      if (this.#startedAt >= since) return; // a read that started after `since` has finished
      const wait = this.#startedAt + this.#minMissGapMs - performance.now();
      if (wait > 0) {
        await sleep(wait);
        continue;
      }
      return this.#start();
    }
  }

  /** Learn vector dimensions from vectors that were just written (insertMany), where unknown. */
  noteVectors(collection: string, vectorName: string, dimensions: number): void {
    const shape = this.#shapes.get(storedName(collection));
    if (shape && shape.vectorDimensions[vectorName] === undefined && dimensions > 0) shape.vectorDimensions[vectorName] = dimensions;
  }

  #start(): Promise<void> {
    this.#startedAt = performance.now();
    const load = this.#load().finally(() => {
      if (this.#refreshing === load) this.#refreshing = undefined;
    });
    this.#refreshing = load;
    return load;
  }

  async #get(path: string): Promise<unknown> {
    // Several nodes: the schema is the cluster's, so any node answers; the next one is asked
    // when one cannot be reached or answers 5xx (a node down must not stop validation).
    const nodes = this.#target.nodes ?? [this.#target];
    let lastError: unknown;
    for (const node of nodes) {
      const target = { ...this.#target, host: node.host, httpPort: node.httpPort };
      let r: { status: number; body: string };
      try {
        r = await httpGet(`${restOrigin(target)}${path}`, this.#timeoutMs, authHeaders(target), target.tls);
      } catch (error) {
        lastError = error;
        continue;
      }
      // A 5xx from one node of several (one that just rejoined, its Raft not caught up: seen as
      // HTTP 500 right after a node restart) is that node's state: ask the next one.
      if (r.status >= 500 && nodes.length > 1) {
        lastError = new Error(`GET ${path} answered HTTP ${r.status} on ${node.host}:${node.httpPort}`);
        continue;
      }
      if (r.status !== 200) throw new Error(`GET ${path} answered HTTP ${r.status}`);
      return JSON.parse(r.body) as unknown;
    }
    throw lastError;
  }

  async #load(): Promise<void> {
    const schema = (await this.#get('/v1/schema')) as { classes?: RawClass[] };
    const next = new Map<string, CollectionShape>();
    for (const cls of schema.classes ?? []) {
      const previous = this.#shapes.get(cls.class);
      const properties = Object.fromEntries((cls.properties ?? []).map((p) => [p.name, p.dataType[0] ?? 'unknown']));
      const vectorDimensions = { ...previous?.vectorDimensions, ...this.#declared[cls.class]?.vectorDimensions };
      if (Object.keys(vectorDimensions).length === 0) Object.assign(vectorDimensions, await this.#learnDimensions(cls.class));
      next.set(cls.class, {
        name: cls.class,
        properties,
        vectorDimensions,
        hasVectorizer: hasVectorizer(cls),
        nullStateIndexed: cls.invertedIndexConfig?.indexNullState === true,
      });
    }
    this.#shapes = next;
    this.#lastRefresh = performance.now();
  }

  /** Dimensions of one stored object's vectors; none if the collection is empty. */
  async #learnDimensions(cls: string): Promise<Record<string, number>> {
    try {
      const page = (await this.#get(`/v1/objects?class=${encodeURIComponent(cls)}&limit=1&include=vector`)) as {
        objects?: { vector?: number[]; vectors?: Record<string, number[]> }[];
      };
      const first = page.objects?.[0];
      if (!first) return {};
      const dims: Record<string, number> = {};
      if (Array.isArray(first.vector) && first.vector.length > 0) dims['default'] = first.vector.length;
      for (const [name, v] of Object.entries(first.vectors ?? {})) if (Array.isArray(v)) dims[name] = v.length;
      return dims;
    } catch {
      return {};
    }
  }
}
