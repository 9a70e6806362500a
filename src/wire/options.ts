/**
 * The lean path's switches, with no runtime dependencies so that configuration code can name
 * them without loading grpc-js or the codecs (src/wire/lean-path.ts re-exports them).
 */

/** How the engine's own read specs reach Weaviate on pooled connections. */
export const QUERY_PATHS = ['lean', 'client'] as const;
export type QueryPath = (typeof QUERY_PATHS)[number];

/**
 * How result vectors come out of the lean path: `array` (numbers, what weaviate-client gives) or
 * `float32` (a Float32Array per vector: one byte copy across threads, not a JSON array).
 */
export const VECTOR_FORMATS = ['array', 'float32'] as const;
export type VectorFormat = (typeof VECTOR_FORMATS)[number];
