/**
 * weaviate-executor: a worker-thread query engine for Weaviate with priority lanes, real
 * connection pools per worker, and HDR latency statistics.
 *
 * Importing it changes nothing global in the host process and pulls in neither fastify nor
 * prom-client. Other entries: `weaviate-executor/fastify` (the routes as a fastify plugin),
 * `weaviate-executor/prometheus` (metrics), `weaviate-executor/testing` (local Weaviate
 * launcher, sample data: never imported by production code).
 */
export { createExecutor, Executor, type CreateExecutorOptions, type RequestOptions, type RequestEvent, type ResultOf } from './engine/executor.ts';
export { defineTasks, type Task, type TasksOf, type TaskName, type TaskArgs, type TaskResult, type TypedExecutor, type ExecutorFor } from './engine/tasks.ts';
export type { ExecutorOptions, EngineOptions, ExecutorConfig, ReplyHandoff, WorkerResourceLimits } from './engine/config.ts';
// The lean query path's switches (issue 11): options `queryPath`, `vectors`.
export type { QueryPath, VectorFormat } from './wire/options.ts';
export { resolveExecutorConfig, ENGINE_ENV } from './engine/config.ts';
export type { LaneOptions, LaneConfig } from './engine/lanes.ts';
export { DEFAULT_LANES, formatLanesEnv, parseLanesEnv } from './engine/lanes.ts';
export type { EngineStats, EngineCounters, WorkerSummary } from './engine/stats.ts';
export type { LaneStats } from './engine/scheduler.ts';
export type { TaskContext, TaskFunction } from './engine/task-runner.ts';
export { createPool, type CreatePoolOptions, type WeaviatePool } from './pool/create.ts';
export { ConnectionPool } from './pool/pool.ts';
export { SingleConnection } from './pool/single.ts';
export type { PoolStats, ConnectionInfo, Lease, AcquireOptions, ConnectionSource } from './pool/types.ts';
export { resolvePoolConfig, POOL_DEFAULTS, POOL_ENV, TARGET_ENV, type PoolConfig, type PoolOptions, type WeaviateTarget } from './pool/config.ts';
export type { QuerySpec, HybridSpec, NearVectorSpec, Bm25Spec, FetchObjectsSpec, InsertManySpec, FilterSpec, QueryResult, InsertResult, ResultObject } from './query/spec.ts';
export { validateSpec } from './query/spec.ts';
export * from './errors.ts';
export { createLogger, silentLogger, type Logger } from './log.ts';
export { registerSecret, redact } from './redact.ts';
export { Secret, revealSecret } from './secret.ts';
// Several nodes and TLS (issue 12).
export type { WeaviateOptions } from './pool/config.ts';
export type { ConsistencyLevel } from './query/spec.ts';
export { CONSISTENCY_LEVELS } from './query/spec.ts';
export { MultiNodePool, type NodeStats, type NodeLimitStats } from './cluster/multi-pool.ts';
// Per-node adaptive limits (issue 13, `nodeAdaptive`): the options and the snapshot in node stats.
export type { AdaptiveLimitOptions, AdaptiveLimitSnapshot } from './engine/adaptive-limit.ts';
export { NODES_ENV, type NodeAddress } from './cluster/nodes.ts';
export { OUTLIER_DEFAULTS, type OutlierConfig, type NodeHealth } from './cluster/outlier.ts';
// Node stats merged over workers, as `weaviate-executor stats` and the node metrics show them.
export { mergeNodes, mergeNodeLimit, nodeState, type MergedNodeStats, type MergedNodeAdaptive } from './stats/nodes.ts';
export { HEDGE_DEFAULTS, type HedgeConfig, type HedgeStats } from './cluster/hedge.ts';
export { TLS_ENV, type TlsOptions, type TlsSettings } from './weaviate/tls.ts';
