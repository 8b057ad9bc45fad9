// A real redis-server on a free loopback port (Debian's package), for the cluster's tests and bench.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

/** A free loopback TCP port (the kernel's choice; released before redis binds it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `redis-server` bound to 127.0.0.1 on a free port, without persistence, and waits until it
 * accepts connections. The handle: `url` (redis://127.0.0.1:PORT), `stop()` (SIGTERM), `kill()`
 * (SIGKILL, to test an outage) and `restart()` (a fresh process on the same port).
 */
export async function startRedis({ bin = 'redis-server' } = {}) {
  const port = await freePort();
  let child;
  let output = '';
  const launch = () =>
    new Promise((resolve, reject) => {
      output = '';
      child = spawn(
        bin,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s:\n${output}`)), 10_000);
      const onData = (chunk) => {
        output += chunk;
        if (/Ready to accept connections/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot start ${bin} (apt-get install -y redis-server): ${error.message}`));
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}:\n${output}`));
      });
    });
  const end = (signal) =>
    new Promise((done) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return done();
      child.once('exit', () => done());
      child.kill(signal);
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    output: () => output,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
    restart: async () => {
      await end('SIGKILL');
      await launch();
    },
  };
}
