/**
 * Finding and building the server binary, with a stand-in `go` on PATH (a shell script that
 * "builds" slowly and counts its runs): two processes asking at once build once, nobody sees a
 * half-written binary, and a missing Go gives the ways out.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cachedBinaryPath, resolveWeaviateBinary } from '../../src/launcher/binary.ts';
import { rejectionOf } from '../support/rejection.ts';

function fakeGo(dir: string): string {
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  // `go version` answers; `go install` counts itself, sleeps 1.5 s, then writes the binary in
  // two steps (so a reader of a half-written file would see only the first half).
  writeFileSync(
    join(bin, 'go'),
    `#!/bin/sh
if [ "$1" = "version" ]; then echo "go version go0.0-fake"; exit 0; fi
echo run >> "${join(dir, 'runs')}"
sleep 1.5
printf '#!/bin/sh\\n' > "$GOBIN/weaviate-server"
sleep 0.3
printf 'echo fake weaviate\\n' >> "$GOBIN/weaviate-server"
chmod +x "$GOBIN/weaviate-server"
`,
  );
  chmodSync(join(bin, 'go'), 0o755);
  return bin;
}

describe('weaviate-server binary', () => {
  it('builds once when two processes ask at once, and both get the complete binary', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wx-bin-'));
    const bin = fakeGo(dir);
    const env = { ...process.env, PATH: `${bin}:${process.env['PATH']}`, WEAVIATE_EXECUTOR_CACHE: join(dir, 'cache'), WEAVIATE_BIN: '' };
    const script = `import { resolveWeaviateBinary } from ${JSON.stringify(new URL('../../src/launcher/binary.ts', import.meta.url).href)};
const r = await resolveWeaviateBinary({ onProgress: () => {} });
console.log(JSON.stringify(r));`;
    const run = () =>
      new Promise<{ path: string; source: string }>((resolve, reject) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script], { env, stdio: ['ignore', 'pipe', 'inherit'] });
        let out = '';
        child.stdout.on('data', (c: Buffer) => (out += c.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as { path: string; source: string }) : reject(new Error(`exit ${code}`))));
      });
    const [a, b] = await Promise.all([run(), run()]);
    expect(readFileSync(join(dir, 'runs'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(a.path).toBe(b.path);
    expect([a.source, b.source].sort()).toEqual(['built', 'cache']);
    expect(execFileSync(a.path, { encoding: 'utf8' }).trim()).toBe('fake weaviate');
    // A third call finds it in the cache without running go.
    const c = await resolveWeaviateBinary({ env: { ...env, PATH: '/nonexistent' } });
    expect(c.source).toBe('cache');
  });

  it('WEAVIATE_BIN wins, and must be executable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wx-bin-'));
    const file = join(dir, 'weaviate-server');
    writeFileSync(file, '#!/bin/sh\n');
    await expect(resolveWeaviateBinary({ env: { WEAVIATE_BIN: file } })).rejects.toMatchObject({ code: 'WEX_WEAVIATE_NOT_FOUND' });
    chmodSync(file, 0o755);
    await expect(resolveWeaviateBinary({ env: { WEAVIATE_BIN: file } })).resolves.toMatchObject({ path: file, source: 'env' });
  });

  it('without a cache and without Go, the error lists the ways out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wx-bin-'));
    const env = { PATH: '/nonexistent', WEAVIATE_EXECUTOR_CACHE: join(dir, 'cache') };
    const error = await rejectionOf(resolveWeaviateBinary({ env }));
    expect(error.code).toBe('WEX_WEAVIATE_NOT_FOUND');
    expect(error.message).toMatch(/WEAVIATE_BIN/);
    expect(error.message).toMatch(/install Go/);
    expect(error.message).toMatch(/WEAVIATE_HOST \/ WEAVIATE_PORT/);
    expect(cachedBinaryPath(undefined, env)).toContain(join(dir, 'cache'));
  });
});
