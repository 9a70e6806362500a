/**
 * Count this process's established TCP connections to a remote port, from /proc (Linux). The
 * pool's claim "total_connections = real sockets" is checked against this, not against objects.
 * Worker threads share the process's file descriptors, so the count covers every thread.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

const ESTABLISHED = '01';

function socketInodes(pid: number | 'self'): Set<string> {
  const inodes = new Set<string>();
  const dir = `/proc/${pid}/fd`;
  let fds: string[];
  try {
    fds = readdirSync(dir);
  } catch {
    return inodes;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${dir}/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}

/** Established TCP sockets of process `pid` whose remote port is `port` (IPv4 and IPv6). */
export function countEstablished(port: number, pid: number | 'self' = 'self'): number {
  const mine = socketInodes(pid);
  let count = 0;
  for (const table of ['tcp', 'tcp6']) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/net/${table}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const remotePort = Number.parseInt(cols[2]!.split(':')[1] ?? '', 16);
      if (remotePort === port && cols[3] === ESTABLISHED && mine.has(cols[9]!)) count++;
    }
  }
  return count;
}
