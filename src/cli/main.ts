#!/usr/bin/env node
/**
 * The `weaviate-executor` command line. Commands:
 *   start    validate the whole configuration, then Weaviate + sample data + executor + HTTP
 *   stats    a running instance's stats, readable (or --json)
 *   doctor   check a Weaviate: REST, version, gRPC, TLS, kagome_kr, latency, a collection's schema
 *   bench    the benchmark suite (bench/run.ts; a checkout of the repository)
 *   tune     find lane and pool settings for a latency target (bench/tune.ts; a checkout)
 * Exit codes: 0 ok, 1 a check or request failed, 2 bad usage or configuration.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EngineStats } from '../engine/stats.ts';
import { runDoctor, doctorTarget, type Check } from './doctor.ts';
import { formatStats } from './format-stats.ts';

const USAGE = `Usage: weaviate-executor <command> [options]

Commands:
  start              Validate the whole configuration (env), then start Weaviate (the one
                     WEAVIATE_HOST/PORT name, else a local one), load the sample data, start the
                     executor and its HTTP routes (127.0.0.1:8010). A bad setting fails at once.
  stats              Show a running instance's stats.
      --url URL        Base URL of the instance (default http://VECTOR_STORE_HTTP_HOST:VECTOR_STORE_HTTP_PORT,
                       i.e. http://127.0.0.1:8010); the token is VECTOR_STORE_HTTP_TOKEN
      --json           Print the raw stats JSON instead
  doctor             Check a Weaviate (target from WEAVIATE_HOST, WEAVIATE_PORT, WEAVIATE_GRPC_PORT,
                     WEAVIATE_SECURE, WEAVIATE_API_KEY, or the options below).
      --host H --port P --grpc-port G --secure
      --collection NAME  Collection whose schema is read and queried (default m_asset_schema)
      --samples N        Round trips per latency figure (default 20)
      --no-write         Do not create the temporary collection that tries the kagome_kr tokenizer
      --json             Print the checks as JSON
  bench [args]       Run the benchmark suite (bench/run.ts; args as in README, e.g. --quick)
  tune [args]        Find settings for a critical p99 target (bench/tune.ts, e.g. --critical-p99 50)

  -h, --help         This help (also: weaviate-executor <command> --help)
`;

function fail(message: string, code = 2): never {
  console.error(message);
  process.exit(code);
}

async function stats(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { url: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) return void console.log(USAGE);
  const host = process.env['VECTOR_STORE_HTTP_HOST'] || '127.0.0.1';
  const base = (values.url ?? `http://${host.includes(':') ? `[${host}]` : host}:${process.env['VECTOR_STORE_HTTP_PORT'] || '8010'}`).replace(/\/+$/, '');
  const token = process.env['VECTOR_STORE_HTTP_TOKEN'];
  let response: Response;
  try {
    response = await fetch(`${base}/vector-store/pool/stats`, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5000) });
  } catch (error) {
    fail(`No answer from ${base}/vector-store/pool/stats within 5 s: ${(error as Error).message}. Is an instance running (weaviate-executor start)? Use --url.`, 1);
  }
  if (!response.ok) fail(`${base}/vector-store/pool/stats answered HTTP ${response.status}${response.status === 401 ? ' (set VECTOR_STORE_HTTP_TOKEN)' : ''}`, 1);
  const body = (await response.json()) as { stats: EngineStats };
  console.log(values.json ? JSON.stringify(body.stats, null, 2) : formatStats(body.stats));
}

async function doctor(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' }, port: { type: 'string' }, 'grpc-port': { type: 'string' }, secure: { type: 'boolean' },
      collection: { type: 'string' }, samples: { type: 'string' }, 'no-write': { type: 'boolean' }, json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return void console.log(USAGE);
  const samples = values.samples === undefined ? 20 : Number(values.samples);
  if (!Number.isInteger(samples) || samples < 1 || samples > 10_000) fail(`Expected \`--samples\` to be an integer between 1 and 10000, got \`${values.samples}\``);
  let target;
  try {
    target = doctorTarget({ host: values.host, port: values.port, grpcPort: values['grpc-port'], secure: values.secure });
  } catch (error) {
    fail(`Configuration invalid: ${(error as Error).message}`);
  }
  const mark: Record<Check['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skip: 'skip' };
  const json = values.json === true;
  if (!json) console.log(`Checking the Weaviate at ${target.secure ? 'https' : 'http'}://${target.host}:${target.httpPort} (gRPC ${target.grpcHost}:${target.grpcPort})`);
  const checks = await runDoctor({
    target, collection: values.collection ?? 'm_asset_schema', samples, write: !values['no-write'],
    ...(json ? {} : { onCheck: (c: Check) => console.log(`[${mark[c.status]}] ${c.name.padEnd(9)} ${c.detail}`), onProgress: (l: string) => console.log(`       ... ${l}`) }),
  });
  const failed = checks.filter((c) => c.status === 'fail');
  if (json) console.log(JSON.stringify({ ok: failed.length === 0, checks }, null, 2));
  else console.log(failed.length ? `\n${failed.length} check(s) failed: ${failed.map((c) => c.name).join(', ')}` : '\nAll checks passed.');
  process.exitCode = failed.length ? 1 : 0;
}

/** bench and tune live in the repository's bench/ folder (not in the published package). */
function delegate(script: 'run.ts' | 'tune.ts', argv: string[]): Promise<void> {
  const candidates = ['../../bench/', '../../../bench/'].map((rel) => fileURLToPath(new URL(rel + script, import.meta.url)));
  const path = candidates.find((p) => existsSync(p));
  if (!path) fail(`bench/${script} not found: \`bench\` and \`tune\` run from a checkout of the weaviate-executor repository (bench/ is not in the npm package).`);
  console.log(`Running ${path} ${argv.join(' ')}`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path, ...argv], { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward).on('SIGTERM', forward);
    child.on('exit', (code, signal) => {
      process.exitCode = code ?? (signal ? 1 : 0);
      resolve();
    });
  });
}

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'start':
    if (rest.includes('--help') || rest.includes('-h')) console.log(USAGE);
    else if (rest.length) fail(`\`start\` takes no arguments (configure it with environment variables; README lists them), got: ${rest.join(' ')}`);
    else await (await import('./start.ts')).runStart();
    break;
  case 'stats':
    await stats(rest).catch((e: unknown) => fail(String((e as Error).message)));
    break;
  case 'doctor':
    await doctor(rest).catch((e: unknown) => fail(String((e as Error).message)));
    break;
  case 'bench':
    await delegate('run.ts', rest);
    break;
  case 'tune':
    await delegate('tune.ts', rest);
    break;
  case undefined:
  case '-h':
  case '--help':
  case 'help':
    console.log(USAGE);
    break;
  default:
    fail(`Unknown command \`${command}\`.\n\n${USAGE}`);
}
