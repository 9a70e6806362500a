/**
 * Where a large reply's client time goes on one thread (issue 11): real SearchReply bytes of the
 * bench's large query (nearVector limit 100 with vectors, sample data), then per reply:
 *   decode       the one-pass decoder (what the main thread does with replyHandoff 'bytes')
 *   clone        v8 serialize + deserialize of the decoded result (what replyHandoff 'objects'
 *                adds: Piscina's structured clone, serialised in the worker, rebuilt on the main thread)
 * for number[] and Float32Array vectors. Against WEAVIATE_HOST/PORT or a node started here.
 *   node --expose-gc bench/decode-probe.ts [iterations=300]
 */
import { deserialize, serialize } from 'node:v8';
import { Channel, credentials } from '@grpc/grpc-js';
import { resolveTarget } from '../src/pool/config.ts';
import { createLeanPath } from '../src/wire/lean-path.ts';
import { decodeSearchReply } from '../src/wire/reply-decoder.ts';
import type { ReadSpec } from '../src/wire/request.ts';
import { largeQuery } from './scenarios.ts';
import { withSampleWeaviate } from './setup.ts';

const iterations = Number(process.argv[2] ?? 300);

await withSampleWeaviate(() => {}, async (weaviate) => {
  const target = resolveTarget({ ...weaviate.target }, {});
  const channel = new Channel(`${target.grpcHost}:${target.grpcPort}`, credentials.createInsecure(), { 'grpc.max_receive_message_length': 104_858_000, 'grpc-node.flow_control_window': 16 << 20 });
  try {
    const lean = await createLeanPath({ channel, headers: {}, queryTimeoutMs: 10_000 });
    const replies: { bytes: Buffer; spec: ReadSpec }[] = [];
    for (let i = 0; i < 20; i++) {
      const spec = largeQuery(i) as ReadSpec;
      replies.push({ bytes: await lean.searchBytes(spec), spec });
    }
    const kb = replies.reduce((a, r) => a + r.bytes.length, 0) / replies.length / 1024;
    const time = (fn: (i: number) => void): number => {
      for (let i = 0; i < 50; i++) fn(i); // warm-up
      (globalThis as { gc?: () => void }).gc?.();
      const t = performance.now();
      for (let i = 0; i < iterations; i++) fn(i);
      return ((performance.now() - t) / iterations) * 1000;
    };
    for (const format of ['array', 'float32'] as const) {
      const decoded = replies.map((r) => decodeSearchReply(r.bytes, r.spec, format));
      const decodeUs = time((i) => decodeSearchReply(replies[i % 20]!.bytes, replies[i % 20]!.spec, format));
      const serializeUs = time((i) => serialize(decoded[i % 20]));
      const wire = decoded.map((d) => serialize(d));
      const deserializeUs = time((i) => deserialize(wire[i % 20]!));
      console.log(
        `vectors ${format.padEnd(7)} reply ${kb.toFixed(1)} KB, ${decoded[0]!.objects.length} objects: decode ${decodeUs.toFixed(0)} us; ` +
          `structured clone: serialize ${serializeUs.toFixed(0)} us + deserialize ${deserializeUs.toFixed(0)} us (${(wire[0]!.length / 1024).toFixed(1)} KB serialised)`,
      );
    }
  } finally {
    channel.close();
  }
});
