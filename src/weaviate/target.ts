import { revealSecret, type Secret } from '../secret.ts';
import type { TlsSettings } from './tls.ts';
import type { NodeAddress } from '../cluster/nodes.ts';

/**
 * Where Weaviate is and how to authenticate: the target every connection, probe and schema
 * read uses. Resolved from options and env by `resolveTarget` (src/pool/config.ts); the type
 * lives here, with the Weaviate code, so that nothing Weaviate-side depends on the pool.
 */
export interface WeaviateTarget {
  /** Weaviate host for REST (and gRPC unless `grpcHost` is set). Env `WEAVIATE_HOST`. @default 'localhost' */
  host: string;
  /** REST port. Env `WEAVIATE_PORT`. @default 8080 */
  httpPort: number;
  /** gRPC host. Env `WEAVIATE_GRPC_HOST`. @default same as host */
  grpcHost: string;
  /** gRPC port. Env `WEAVIATE_GRPC_PORT`. @default 50051 */
  grpcPort: number;
  /** TLS for REST and gRPC. Env `WEAVIATE_SECURE`. @default false (true when `tls` is given) */
  secure: boolean;
  /**
   * Trust and identity for TLS (src/weaviate/tls.ts): CA, client certificate and key (mutual TLS),
   * server name override. Options `weaviate.tls.{ca,caFile,cert,certFile,key,keyFile,servername}`,
   * env `WEAVIATE_TLS_CA`, `WEAVIATE_TLS_CA_FILE`, `WEAVIATE_TLS_CERT_FILE`, `WEAVIATE_TLS_KEY_FILE`,
   * `WEAVIATE_TLS_SERVERNAME`. Without it, TLS trusts the system's roots. @default undefined
   */
  tls?: Readonly<TlsSettings> | undefined;
  /**
   * API key sent as a bearer token. Env `WEAVIATE_API_KEY`. Held as a Secret (src/secret.ts): no
   * dump of the resolved configuration shows it; only the transport reveals it. @default undefined
   */
  apiKey: Secret | undefined;
  /**
   * The nodes of a cluster (src/cluster/): option `weaviate.nodes`, env
   * `WEAVIATE_NODES=host:httpPort:grpcPort,...`. Two or more give one pool per node, reads
   * balanced by load, outlier ejection. The first node is also host/httpPort/grpcPort. @default undefined (one node)
   */
  nodes?: readonly NodeAddress[] | undefined;
  /** Extra headers for every request (e.g. vectorizer keys). Values are treated as secrets. @default {} */
  headers: Readonly<Record<string, string>>;
}

export function restOrigin(target: Readonly<WeaviateTarget>): string {
  return `${target.secure ? 'https' : 'http'}://${target.host}:${target.httpPort}`;
}

export function authHeaders(target: Readonly<WeaviateTarget>): Record<string, string> {
  const key = revealSecret(target.apiKey);
  return key ? { ...target.headers, authorization: `Bearer ${key}` } : { ...target.headers };
}
