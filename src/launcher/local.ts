/**
 * "A Weaviate to work against": the one WEAVIATE_HOST / WEAVIATE_PORT point at, when they are
 * set and it answers; otherwise a local node the project starts itself (building the server
 * binary on first use). Used by `npm start`, the bench suite and the integration tests.
 */
import { ConnectError } from '../errors.ts';
import { resolveTarget, type WeaviateTarget } from '../pool/config.ts';
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
  if (env['WEAVIATE_HOST'] || env['WEAVIATE_PORT']) {
    const target = resolveTarget({}, env);
    const origin = restOrigin(target);
    if (await isReady(origin, 5000)) {
      options.onProgress?.(`Using the Weaviate at ${origin} (WEAVIATE_HOST/WEAVIATE_PORT)`);
      return { target, external: true, node: undefined, stop: async () => {}, [Symbol.asyncDispose]: async () => {} };
    }
    throw new ConnectError(
      `WEAVIATE_HOST/WEAVIATE_PORT point at ${origin}, which does not answer GET /v1/.well-known/ready within 5 s. ` +
        'Start that server, or unset both variables to let the project start its own Weaviate.',
      { origin },
    );
  }
  const node = await startWeaviate(options);
  const target = resolveTarget({ ...node.target }, {});
  const stop = () => node.stop();
  return { target, external: false, node, stop, [Symbol.asyncDispose]: stop };
}
