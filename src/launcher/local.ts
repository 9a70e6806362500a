/**
 * "A Weaviate to work against": the one WEAVIATE_HOST / WEAVIATE_PORT point at (or the cluster
 * WEAVIATE_NODES lists), with the TLS settings of the environment (WEAVIATE_SECURE,
 * WEAVIATE_TLS_*), when they are set and it answers; otherwise a local node the project starts
 * itself (building the server binary on first use). Used by `npm start`, the bench suite and
 * the integration tests.
 */
import { ConnectError } from '../errors.ts';
import { resolveTarget, type WeaviateTarget } from '../pool/config.ts';
import { NODES_ENV } from '../cluster/nodes.ts';
import { fetchServerVersion } from '../weaviate/meta.ts';
import { restOrigin } from '../weaviate/target.ts';
import { isReady } from './http-probe.ts';
import { startWeaviate, type NodeOptions, type WeaviateNode } from './node.ts';

export interface LocalWeaviate extends AsyncDisposable {
  target: Readonly<WeaviateTarget>;
  /** True when WEAVIATE_HOST/WEAVIATE_PORT pointed at a running server (nothing was started). */
  external: boolean;
  node: WeaviateNode | undefined;
  stop(): Promise<void>;
}

export async function ensureWeaviate(
  options: NodeOptions = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<LocalWeaviate> {
  if (env['WEAVIATE_HOST'] || env['WEAVIATE_PORT'] || env[NODES_ENV]) {
    const target = resolveTarget({}, env);
    const origins = (target.nodes ?? [target]).map((n) => restOrigin({ ...target, host: n.host, httpPort: n.httpPort }));
    // Over https with the CA, client certificate and server name from config (WEAVIATE_TLS_*).
    const ready = await Promise.all(origins.map((origin) => isReady(origin, 5000, target.tls)));
    const from = target.nodes ? NODES_ENV : 'WEAVIATE_HOST/WEAVIATE_PORT';
    // A cluster is usable when one node answers (the executor ejects and probes the others).
    if (ready.some(Boolean)) {
      const down = origins.filter((_, i) => !ready[i]);
      options.onProgress?.(`Using the Weaviate ${target.nodes ? `cluster ${origins.join(', ')}` : `at ${origins[0]}`} (${from})${down.length ? `; not ready yet: ${down.join(', ')}` : ''}`);
      return { target, external: true, node: undefined, stop: async () => {}, [Symbol.asyncDispose]: async () => {} };
    }
    // Say why when it is TLS (untrusted CA, wrong name, plain vs TLS): the same typed WEX_TLS_* error the executor gives.
    if (target.secure || ready.length === 1) await fetchServerVersion({ ...target, host: (target.nodes?.[0] ?? target).host, httpPort: (target.nodes?.[0] ?? target).httpPort }, 5000);
    throw new ConnectError(
      `${from} point${target.nodes ? '' : 's'} at ${origins.join(', ')}, which do${origins.length > 1 ? '' : 'es'} not answer GET /v1/.well-known/ready within 5 s` +
        `${target.secure ? ' over TLS (check WEAVIATE_TLS_CA_FILE / WEAVIATE_TLS_SERVER_NAME)' : ''}. ` +
        `Start that server, or unset ${from === NODES_ENV ? NODES_ENV : 'both variables'} to let the project start its own Weaviate.`,
      { origins },
    );
  }
  const node = await startWeaviate(options);
  const target = resolveTarget({ ...node.target }, {});
  const stop = () => node.stop();
  return { target, external: false, node, stop, [Symbol.asyncDispose]: stop };
}
