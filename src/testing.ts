/**
 * `weaviate-executor/testing`: what tests, demos and examples need and production code does not:
 * a local Weaviate (built from source once, started on free ports, stopped on close), the
 * deterministic Korean sample data set and its stand-in embedding, and an in-memory logger.
 * The main entry never imports this file.
 */
export { startWeaviate, startCluster, WeaviateNode, WeaviateCluster, type NodeOptions, type ClusterOptions } from './launcher/node.ts';
export { ensureWeaviate, type LocalWeaviate } from './launcher/local.ts';
export { resolveWeaviateBinary, WEAVIATE_VERSION, type BinaryOptions, type ResolvedBinary } from './launcher/binary.ts';
export { ensureSampleData, createSampleCollection, countObjects, type LoadOptions, type LoadResult } from './data/load.ts';
export { SAMPLE_COLLECTION, EMBEDDING_DIMENSIONS, DEFAULT_SAMPLE_SIZE, COMPANIES, sampleDocument, embed, embedDocument, type SampleDocument, type Company } from './data/sample.ts';
export { MemoryLogger } from './log.ts';
