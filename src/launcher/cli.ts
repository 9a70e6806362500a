/**
 * The launcher from a shell:
 *   node src/launcher/cli.ts build                 build (or find) the server binary, print its path
 *   node src/launcher/cli.ts start [--cluster] [--api-key KEY] [--http-port N] [--grpc-port N]
 *                                                  start a node (or a 3-node cluster), print where, run until Ctrl-C
 */
import { parseArgs } from 'node:util';
import { resolveWeaviateBinary } from './binary.ts';
import { startCluster, startWeaviate, type WeaviateNode } from './node.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    cluster: { type: 'boolean', default: false },
    'api-key': { type: 'string' },
    'http-port': { type: 'string' },
    'grpc-port': { type: 'string' },
  },
});
const progress = (line: string) => console.error(line);

switch (positionals[0]) {
  case 'build': {
    const bin = await resolveWeaviateBinary({ onProgress: progress });
    console.log(bin.path);
    break;
  }
  case 'start': {
    const apiKey = values['api-key'] ? { key: values['api-key'] } : undefined;
    const common = { onProgress: progress, binaryOptions: { onProgress: progress }, ...(apiKey ? { apiKey } : {}) };
    let nodes: readonly WeaviateNode[];
    let stop: () => Promise<void>;
    if (values.cluster) {
      const cluster = await startCluster(common);
      nodes = cluster.nodes;
      stop = () => cluster.stop();
    } else {
      const node = await startWeaviate({
        ...common,
        ...(values['http-port'] ? { httpPort: Number(values['http-port']) } : {}),
        ...(values['grpc-port'] ? { grpcPort: Number(values['grpc-port']) } : {}),
      });
      nodes = [node];
      stop = () => node.stop();
    }
    for (const n of nodes) console.log(`${n.name}: WEAVIATE_HOST=${n.host} WEAVIATE_PORT=${n.httpPort} WEAVIATE_GRPC_PORT=${n.grpcPort}  (log ${n.logFile})`);
    // The line to copy for a cluster (names included: /v1/nodes status feeds outlier ejection).
    if (nodes.length > 1) console.log(`WEAVIATE_NODES=${nodes.map((n) => `${n.name}=${n.host}:${n.httpPort}:${n.grpcPort}`).join(',')}${apiKey ? ` WEAVIATE_API_KEY=${apiKey.key}` : ''}`);
    console.error('Running; Ctrl-C stops and removes the data.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await stop();
    break;
  }
  default:
    console.error('usage: cli.ts build | start [--cluster] [--api-key KEY] [--http-port N] [--grpc-port N]');
    process.exitCode = 2;
}
