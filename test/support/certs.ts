// Moved to src/launcher/ so the bench (bench/cluster.ts) makes its TLS certificates the same way as the tests.
export { makeTestCerts, type TestCerts } from '../../src/launcher/test-certs.ts';
