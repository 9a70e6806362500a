/**
 * A real Weaviate node (or a 3-node cluster) on 127.0.0.1, started from the server binary:
 * free ports, a fresh data folder, anonymous access (or API keys), no vectorizer modules,
 * telemetry off, the Korean tokenizer on. Readiness is awaited with a bound; the log goes to
 * a file whose tail is shown when start-up fails; stop() sends TERM, then KILL after a bound,
 * and removes the data. Nothing is left behind: live nodes are SIGKILLed when this process
 * exits, and a node whose owner process died without that (SIGKILL) is reaped by the next start.
 */
import { Secret } from '../secret.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { WeaviateStartError } from '../errors.ts';
import { registerSecret } from '../redact.ts';
import { resolveWeaviateBinary, type BinaryOptions } from './binary.ts';
import { httpGet, type HttpGetTls } from '../weaviate/http-get.ts';
import { isReady } from './http-probe.ts';
import { tailOf } from './log-tail.ts';
import { pidAlive } from './process.ts';

export interface NodeOptions {
  /** Path of weaviate-server; default: resolveWeaviateBinary() (WEAVIATE_BIN, cache, or build). */
  binary?: string;
  binaryOptions?: BinaryOptions;
  /** REST port; default a free one. */
  httpPort?: number;
  /** gRPC port; default a free one. */
  grpcPort?: number;
  /** Enables API-key authentication and turns anonymous access off. */
  apiKey?: { key: string; user?: string };
  /**
   * TLS for REST and gRPC (PEM files): REST is then served over https on `httpPort`
   * (`--scheme https --tls-port`), gRPC with GRPC_CERT_FILE/GRPC_KEY_FILE. `caFile` and
   * `servername` are what the launcher's readiness probe verifies the node with; without
   * `caFile` the probe of this node (and only it) skips verification.
   */
  tls?: {
    certFile: string;
    keyFile: string;
    caFile?: string;
    servername?: string;
    /** REST demands client certificates signed by this CA (mutual TLS, `--tls-ca`). */
    clientCaFile?: string;
    /** The client certificate and key the probe (and `target`) use against a mutual-TLS node. */
    clientCertFile?: string;
    clientKeyFile?: string;
  };
  /** Extra environment for the server (wins over the launcher's). */
  env?: Readonly<Record<string, string>>;
  /** Bound of waiting for readiness. @default 90_000 */
  readyTimeoutMs?: number;
  /** Bound of a graceful stop before SIGKILL. @default 10_000 */
  stopTimeoutMs?: number;
  /** Keep the data folder after stop(). @default false */
  keepData?: boolean;
  /** Node name (CLUSTER_HOSTNAME). @default 'node1' */
  name?: string;
  onProgress?: (line: string) => void;
}

interface ClusterWiring {
  gossipPort: number;
  dataPort: number;
  raftPort: number;
  raftRpcPort: number;
  raftJoin: string;
  bootstrapExpect: number;
  clusterJoin?: string;
}

const ROOT = join(tmpdir(), 'weaviate-executor');
const live = new Set<WeaviateNode>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort: whatever a test forgot (or could not do because it failed) dies with us.
  process.on('exit', () => {
    for (const node of live) node.killNow();
  });
}

/** Kill servers whose owning process is gone (it was SIGKILLed before it could stop them). */
export function reapOrphans(): number {
  let reaped = 0;
  if (!existsSync(ROOT)) return 0;
  for (const entry of readdirSync(ROOT)) {
    const dir = join(ROOT, entry);
    let owner: { ownerPid: number; serverPid?: number };
    try {
      owner = JSON.parse(readFileSync(join(dir, 'owner.json'), 'utf8')) as typeof owner;
    } catch {
      continue;
    }
    if (pidAlive(owner.ownerPid)) continue;
    if (owner.serverPid && pidAlive(owner.serverPid)) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${owner.serverPid}/cmdline`, 'utf8');
      } catch {
        /* gone meanwhile */
      }
      if (cmd.includes('weaviate-server')) {
        try {
          process.kill(owner.serverPid, 'SIGKILL');
          reaped++;
        } catch {
          /* gone meanwhile */
        }
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return reaped;
}

async function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    // No host: the dual-stack wildcard, which conflicts with any use of the port (gossip binds `*`).
    server.listen(port, () => server.close(() => resolve(true)));
  });
}

/**
 * Where launched nodes' ports come from: below the kernel's ephemeral range (Linux:
 * /proc/sys/net/ipv4/ip_local_port_range, 32768-60999 by default), from 10,000. A node restarted
 * after a kill keeps its ports, and a port in the ephemeral range can meanwhile be the local end
 * of any outgoing connection on the machine: a CI run on 2026-11-27 lost a restarted node to
 * `bind: address already in use` on its gossip port (39148) that way. Elsewhere 20,000-32,767.
 */
export function portRange(read: () => string = () => readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')): { from: number; to: number } {
  try {
    const low = Number(read().trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 12_000) return { from: 10_000, to: low };
  } catch {
    // Not Linux: the usual ephemeral ranges start at 32768 (Linux) or 49152 (IANA, BSD, Windows).
  }
  return { from: 20_000, to: 32_768 };
}

/**
 * `size` consecutive free ports (below the ephemeral range: portRange). Weaviate derives a peer's
 * data port as gossip + 1 (and the raft RPC port sits next to the raft port), so ports are handed
 * out in consecutive blocks.
 */
export async function freePortBlock(size: number): Promise<number> {
  const { from, to } = portRange();
  for (let attempt = 0; attempt < 100; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from - size));
    let ok = true;
    for (let p = base; p < base + size && ok; p++) ok = await canListen(p);
    if (ok) return base;
  }
  throw new WeaviateStartError(`Could not find ${size} consecutive free ports`, {});
}

export class WeaviateNode implements AsyncDisposable {
  readonly host = '127.0.0.1';
  readonly name: string;
  readonly runDir: string;
  readonly dataDir: string;
  readonly logFile: string;
  httpPort = 0;
  grpcPort = 0;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #options: NodeOptions;
  #binary: string | undefined;
  #wiring: ClusterWiring | undefined;
  #paused = false;
  /** First of the 4 consecutive internal ports (gossip, data, raft, raft RPC) of a single node. */
  #internalBase = 0;

  constructor(options: NodeOptions = {}, wiring?: ClusterWiring) {
    this.#options = options;
    this.#wiring = wiring;
    this.name = options.name ?? 'node1';
    if (options.apiKey) registerSecret(options.apiKey.key);
    this.runDir = join(ROOT, `${this.name}-${process.pid}-${randomBytes(4).toString('hex')}`);
    this.dataDir = join(this.runDir, 'data');
    this.logFile = join(this.runDir, 'weaviate.log');
    if (options.httpPort) this.httpPort = options.httpPort;
    if (options.grpcPort) this.grpcPort = options.grpcPort;
  }

  get scheme(): 'http' | 'https' {
    return this.#options.tls ? 'https' : 'http';
  }
  get url(): string {
    return `${this.scheme}://${this.host}:${this.httpPort}`;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }
  /** Connection settings for the pool/engine (`weaviate` option). */
  get target(): {
    host: string; httpPort: number; grpcPort: number; secure: boolean; apiKey?: string;
    tls?: { caFile: string; servername?: string; certFile?: string; keyFile?: string };
  } {
    const t = { host: this.host, httpPort: this.httpPort, grpcPort: this.grpcPort, secure: this.#options.tls !== undefined };
    const tls = this.#options.tls;
    // A TLS node's own CA (and name, and client certificate) when the launcher was given them.
    const clientCert = tls?.clientCertFile && tls.clientKeyFile ? { certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } : {};
    const withTls = tls?.caFile ? { ...t, tls: { caFile: tls.caFile, ...(tls.servername ? { servername: tls.servername } : {}), ...clientCert } } : t;
    return this.#options.apiKey ? { ...withTls, apiKey: this.#options.apiKey.key } : withTls;
  }

  /** Start (or restart after kill/stop, keeping ports and data). Resolves once ready. */
  async start(): Promise<this> {
    if (this.running) return this;
    installExitHook();
    reapOrphans();
    this.#binary ??= this.#options.binary ?? (await resolveWeaviateBinary(this.#options.binaryOptions)).path;
    const autoPorts = !this.httpPort && !this.grpcPort && !this.#wiring;
    for (let attempt = 1; ; attempt++) {
      if (autoPorts && !this.httpPort) {
        const base = await freePortBlock(6);
        this.httpPort = base;
        this.grpcPort = base + 1;
        this.#internalBase = base + 2;
      } else if (!this.#wiring && !this.#internalBase) {
        if (!this.httpPort || !this.grpcPort) {
          const free = await freePortBlock(2);
          this.httpPort ||= free;
          this.grpcPort ||= free + 1;
        }
        this.#internalBase = await freePortBlock(4);
      }
      try {
        await this.#spawnAndWait();
        return this;
      } catch (error) {
        // A port taken between choosing and binding shows as an early exit: retry on new ports.
        const portClash = /address already in use/i.test(tailOf(this.logFile, 50));
        if (autoPorts && portClash && attempt < 3) {
          this.httpPort = 0;
          this.grpcPort = 0;
          this.#internalBase = 0;
          continue;
        }
        throw error;
      }
    }
  }

  #env(): Record<string, string> {
    const w = this.#wiring;
    const b = this.#internalBase;
    const ownBlock = w ?? {
      gossipPort: b,
      dataPort: b + 1,
      raftPort: b + 2,
      raftRpcPort: b + 3,
      raftJoin: `${this.name}:${b + 2}`,
      bootstrapExpect: 1,
    };
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '/usr/bin:/bin',
      HOME: process.env['HOME'] ?? tmpdir(),
      PERSISTENCE_DATA_PATH: this.dataDir,
      DEFAULT_VECTORIZER_MODULE: 'none',
      ENABLE_MODULES: '',
      DISABLE_TELEMETRY: 'true',
      ENABLE_TOKENIZER_KAGOME_KR: 'true',
      GO_PROFILING_DISABLE: 'true',
      PROMETHEUS_MONITORING_ENABLED: 'false',
      LOG_LEVEL: 'info',
      CLUSTER_HOSTNAME: this.name,
      CLUSTER_IN_LOCALHOST: 'true',
      CLUSTER_GOSSIP_BIND_PORT: String(ownBlock.gossipPort),
      CLUSTER_DATA_BIND_PORT: String(ownBlock.dataPort),
      RAFT_PORT: String(ownBlock.raftPort),
      RAFT_INTERNAL_RPC_PORT: String(ownBlock.raftRpcPort),
      RAFT_JOIN: ownBlock.raftJoin,
      RAFT_BOOTSTRAP_EXPECT: String(ownBlock.bootstrapExpect),
      GRPC_PORT: String(this.grpcPort),
      QUERY_DEFAULTS_LIMIT: '25',
    };
    if (w?.clusterJoin) env['CLUSTER_JOIN'] = w.clusterJoin;
    if (this.#options.apiKey) {
      const user = this.#options.apiKey.user ?? 'executor-admin';
      Object.assign(env, {
        AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED: 'false',
        AUTHENTICATION_APIKEY_ENABLED: 'true',
        AUTHENTICATION_APIKEY_ALLOWED_KEYS: this.#options.apiKey.key,
        AUTHENTICATION_APIKEY_USERS: user,
        AUTHORIZATION_ADMINLIST_ENABLED: 'true',
        AUTHORIZATION_ADMINLIST_USERS: user,
      });
    } else {
      env['AUTHENTICATION_ANONYMOUS_ACCESS_ENABLED'] = 'true';
    }
    if (this.#options.tls) {
      env['GRPC_CERT_FILE'] = this.#options.tls.certFile;
      env['GRPC_KEY_FILE'] = this.#options.tls.keyFile;
    }
    return { ...env, ...this.#options.env };
  }

  async #spawnAndWait(): Promise<void> {
    mkdirSync(this.dataDir, { recursive: true });
    const args = this.#options.tls
      ? ['--scheme', 'https', '--host', this.host, '--tls-port', String(this.httpPort),
         '--tls-certificate', this.#options.tls.certFile, '--tls-key', this.#options.tls.keyFile,
         // REST then demands a client certificate signed by this CA (mutual TLS).
         ...(this.#options.tls.clientCaFile ? ['--tls-ca', this.#options.tls.clientCaFile] : [])]
      : ['--scheme', 'http', '--host', this.host, '--port', String(this.httpPort)];
    const logFd = openSync(this.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(this.#binary!, args, { env: this.#env(), stdio: ['ignore', logFd, logFd] });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    this.#paused = false;
    live.add(this);
    this.#exited = new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.once('error', () => resolve());
    });
    void this.#exited.then(() => {
      if (this.#child === child) live.delete(this);
    });
    writeFileSync(join(this.runDir, 'owner.json'), JSON.stringify({ ownerPid: process.pid, serverPid: child.pid }));

    const timeoutMs = this.#options.readyTimeoutMs ?? 90_000;
    const deadline = Date.now() + timeoutMs;
    const started = Date.now();
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new WeaviateStartError(
          `Weaviate node ${this.name} exited during start-up (code ${child.exitCode}, signal ${child.signalCode}); log ${this.logFile}:\n${tailOf(this.logFile, 25)}`,
          { logFile: this.logFile, logTail: tailOf(this.logFile, 25), exitCode: child.exitCode },
        );
      }
      if (await isReady(this.url, 1000, this.#probeTls())) {
        this.#options.onProgress?.(`Weaviate ${this.name} ready at ${this.url} (gRPC ${this.host}:${this.grpcPort}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        return;
      }
      await sleep(200);
    }
    const tail = tailOf(this.logFile, 25);
    await this.#terminate();
    throw new WeaviateStartError(
      `Weaviate node ${this.name} was not ready within ${timeoutMs / 1000} s; log ${this.logFile}:\n${tail}`,
      { logFile: this.logFile, logTail: tail, timeoutMs },
    );
  }

  /** How the readiness probe speaks TLS to this node (its own CA, or no verification). */
  #probeTls(): HttpGetTls | undefined {
    const tls = this.#options.tls;
    if (!tls) return undefined;
    if (!tls.caFile) return { rejectUnauthorized: false };
    return {
      ca: readFileSync(tls.caFile, 'utf8'),
      ...(tls.servername ? { servername: tls.servername } : {}),
      ...(tls.clientCertFile && tls.clientKeyFile ? { cert: readFileSync(tls.clientCertFile, 'utf8'), key: new Secret(readFileSync(tls.clientKeyFile, 'utf8')) } : {}),
    };
  }

  /** Send a signal now (SIGKILL by default) and wait for the exit. Ports and data are kept for start(). */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (!this.running) return;
    if (this.#paused && signal !== 'SIGKILL') this.resume();
    this.#child!.kill(signal);
    await this.#exited;
  }

  /** SIGSTOP: the process keeps its sockets open but answers nothing (a black hole). */
  pause(): void {
    if (!this.running || this.#paused) return;
    this.#child!.kill('SIGSTOP');
    this.#paused = true;
  }

  resume(): void {
    if (!this.running || !this.#paused) return;
    this.#child!.kill('SIGCONT');
    this.#paused = false;
  }

  /** Synchronous SIGKILL for the exit hook. */
  killNow(): void {
    try {
      this.#child?.kill('SIGKILL');
    } catch {
      /* already gone */
    }
  }

  async #terminate(): Promise<void> {
    if (!this.running) return;
    if (this.#paused) this.resume();
    this.#child!.kill('SIGTERM');
    const bound = this.#options.stopTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), bound);
    });
    const outcome = await Promise.race([this.#exited.then(() => 'exited' as const), timedOut]);
    clearTimeout(timer);
    if (outcome === 'timeout' && this.running) {
      this.#child!.kill('SIGKILL');
      await this.#exited;
    }
  }

  /**
   * Stop cleanly (TERM, then KILL after the bound) and start again on the same ports and data.
   * A clean stop writes Weaviate's memtables to disk segments, which a fresh load leaves in memory
   * for up to PERSISTENCE_MEMTABLES_FLUSH_DIRTY_AFTER_SECONDS (60 s); queries read those at a
   * higher CPU cost per answer (bench/RESULTS.md, 2026-11-27 18:30Z).
   */
  async restart(): Promise<this> {
    await this.#terminate();
    return this.start();
  }

  /** Stop (TERM, then KILL after the bound) and remove the data folder and logs. */
  async stop(): Promise<void> {
    await this.#terminate();
    live.delete(this);
    if (!this.#options.keepData) rmSync(this.runDir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Start one node; resolves once it answers ready. */
export async function startWeaviate(options: NodeOptions = {}): Promise<WeaviateNode> {
  const node = new WeaviateNode(options);
  try {
    return await node.start();
  } catch (error) {
    await node.stop().catch(() => {});
    throw error;
  }
}

export interface ClusterOptions extends Omit<NodeOptions, 'httpPort' | 'grpcPort' | 'name'> {
  /** @default 3 */
  size?: number;
}

export class WeaviateCluster implements AsyncDisposable {
  readonly nodes: readonly WeaviateNode[];
  constructor(nodes: readonly WeaviateNode[]) {
    this.nodes = nodes;
  }
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.stop()));
  }
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * A cluster of `size` nodes on localhost (distinct gossip/data/raft/HTTP/gRPC ports, CLUSTER_JOIN
 * to the first node, RAFT_JOIN listing all, RAFT_BOOTSTRAP_EXPECT=size). Resolves when every
 * node is ready and every node's /v1/nodes shows all of them HEALTHY.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<WeaviateCluster> {
  const size = options.size ?? 3;
  const base = await freePortBlock(6 * size);
  const block = (i: number) => base + 6 * i; // http, grpc, gossip, data, raft, raftRpc
  const names = Array.from({ length: size }, (_, i) => `n${i + 1}`);
  const raftJoin = names.map((name, i) => `${name}:${block(i) + 4}`).join(',');
  const nodes = names.map(
    (name, i) =>
      new WeaviateNode(
        { ...options, name, httpPort: block(i), grpcPort: block(i) + 1 },
        {
          gossipPort: block(i) + 2,
          dataPort: block(i) + 3,
          raftPort: block(i) + 4,
          raftRpcPort: block(i) + 5,
          raftJoin,
          bootstrapExpect: size,
          clusterJoin: `localhost:${block(0) + 2}`,
        },
      ),
  );
  const cluster = new WeaviateCluster(nodes);
  try {
    await Promise.all(nodes.map((n) => n.start()));
    const deadline = Date.now() + (options.readyTimeoutMs ?? 90_000);
    const headers: Record<string, string> = options.apiKey ? { authorization: `Bearer ${options.apiKey.key}` } : {};
    // Every node's own view: gossip reaches them one by one, and node 1 seeing all three HEALTHY
    // while node 2 still listed two failed a test that then asked node 2 (2026-11-27 CI).
    const healthyIn = (node: WeaviateNode) => httpGet(`${node.url}/v1/nodes`, 2000, headers, options.tls ? { rejectUnauthorized: false } : undefined)
      .then((r) => (JSON.parse(r.body) as { nodes?: { status: string }[] }).nodes?.filter((n) => n.status === 'HEALTHY').length ?? 0)
      .catch(() => 0);
    for (;;) {
      const healthy = Math.min(...(await Promise.all(nodes.map(healthyIn))));
      if (healthy === size) break;
      if (Date.now() > deadline) {
        throw new WeaviateStartError(`Cluster of ${size} did not become healthy in time (${healthy} HEALTHY)`, { healthy });
      }
      await sleep(300);
    }
    return cluster;
  } catch (error) {
    await cluster.stop().catch(() => {});
    throw error;
  }
}
