/**
 * `npm test` renders the dashboard in a real headless browser (test/integration/dashboard.test.ts).
 * This makes the README's test command do that set-up too: when no Chromium is on PATH, it
 * installs Debian's `chromium` (apt-get, as root); elsewhere it says what is missing and goes on
 * (the dashboard test then fails with the same instruction).
 */
import { spawnSync } from 'node:child_process';

const has = (cmd: string) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;

if (['chromium', 'chromium-browser', 'google-chrome'].some(has)) process.exit(0);
const root = typeof process.getuid === 'function' && process.getuid() === 0;
if (!root || !has('apt-get')) {
  console.warn('Chromium is missing and cannot be installed here (needs apt-get as root): apt-get update && apt-get install -y chromium');
  process.exit(0);
}
console.log('Installing Chromium (Debian package) for the dashboard test...');
for (const args of [['update'], ['install', '-y', '--no-install-recommends', 'chromium']]) {
  const r = spawnSync('apt-get', args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    console.warn(`apt-get ${args.join(' ')} failed (exit ${r.status}); the dashboard test will fail`);
    process.exit(0);
  }
}
