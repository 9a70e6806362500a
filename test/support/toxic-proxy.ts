// Moved to src/launcher/ so the bench (bench/cluster.ts) uses the same proxy as the tests.
export { ToxicProxy } from '../../src/launcher/toxic-proxy.ts';
