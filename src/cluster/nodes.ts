/**
 * The node list of a Weaviate cluster: option `weaviate.nodes` (objects or one string) or env
 * `WEAVIATE_NODES=host:httpPort:grpcPort,...`. One node keeps WEAVIATE_HOST/WEAVIATE_PORT's
 * meaning; with several, the first is also `host`/`httpPort`/`grpcPort` of the target (schema
 * reads, the start-up check). TLS, API key and headers are the target's, the same for every node.
 */
import * as v from '../validate.ts';

export interface NodeAddress {
  host: string;
  httpPort: number;
  grpcPort: number;
  /**
   * The node's name in the cluster (its CLUSTER_HOSTNAME), optional. With names, the cluster's own
   * /v1/nodes status is a second input of outlier ejection (src/cluster/multi-pool.ts): /v1/nodes
   * names nodes, not addresses, so without a name a node's status cannot be matched.
   */
  name?: string;
}

export const NODES_ENV = 'WEAVIATE_NODES';

/** `[name=]host:httpPort:grpcPort` (IPv6 hosts in brackets: `[::1]:8080:50051`; `n1=10.0.0.1:8080:50051`). */
function parseOne(source: v.Source, text: string): NodeAddress {
  const m = /^(?:([\w.-]+)=)?(\[[^\]]+\]|[^:=\s]+):(\d+):(\d+)$/.exec(text.trim());
  if (!m) return v.fail(source, 'a comma-separated list of [name=]host:httpPort:grpcPort', text);
  const host = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
  return { host, httpPort: v.port(source, Number(m[3])), grpcPort: v.port(source, Number(m[4])), ...(m[1] ? { name: m[1] } : {}) };
}

export function resolveNodes(option: unknown, envValue: string | undefined, prefix = 'weaviate.'): NodeAddress[] | undefined {
  const optSource: v.Source = { name: `${prefix}nodes`, kind: 'option' };
  let nodes: NodeAddress[];
  if (option !== undefined) {
    if (typeof option === 'string') nodes = option.split(',').map((s) => parseOne(optSource, s));
    else if (Array.isArray(option)) {
      nodes = option.map((item, i) => {
        const source: v.Source = { name: `${prefix}nodes[${i}]`, kind: 'option' };
        if (typeof item === 'string') return parseOne(source, item);
        const o = v.plainObject(source, item);
        v.knownKeys(source, o, ['host', 'httpPort', 'grpcPort', 'name']);
        return {
          host: v.string({ ...source, name: `${source.name}.host` }, o['host']),
          httpPort: v.port({ ...source, name: `${source.name}.httpPort` }, o['httpPort']),
          grpcPort: v.port({ ...source, name: `${source.name}.grpcPort` }, o['grpcPort']),
          ...(o['name'] !== undefined ? { name: v.string({ ...source, name: `${source.name}.name` }, o['name']) } : {}),
        };
      });
    } else return v.fail(optSource, 'an array of { host, httpPort, grpcPort } or a host:httpPort:grpcPort,... string', option);
  } else if (envValue !== undefined && envValue.trim() !== '') {
    nodes = envValue.split(',').map((s) => parseOne({ name: NODES_ENV, kind: 'env' }, s));
  } else return undefined;
  if (nodes.length === 0) return v.fail(optSource, 'at least one node', option);
  const keys = nodes.map((n) => `${n.host}:${n.httpPort}:${n.grpcPort}`);
  const dup = keys.find((k, i) => keys.indexOf(k) !== i);
  if (dup) v.conflict(`Node \`${dup}\` is listed twice in \`${option !== undefined ? optSource.name : NODES_ENV}\``, { option: optSource.name, node: dup });
  return nodes.map((n) => Object.freeze(n));
}

/** How a node is named in stats, metrics and logs. */
export function nodeName(n: NodeAddress): string {
  return `${n.host}:${n.grpcPort}`;
}
