// The parent's side of the load generator's processes (bench/lib/load-worker.mjs), for
// bench/load.mjs and bench/cluster.mjs: fork one, post commands, and ask for a reply of a type.
import { fork } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../../test-support/processes.mjs';

const WORKER = join(REPO, 'bench/lib/load-worker.mjs');

/** Forks generator process `index`; a worker error or exit rejects whatever is being asked. */
export function forkWorker(index) {
  const child = fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], cwd: REPO });
  const waiting = new Map();
  const failAll = (error) => {
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  child.on('message', (message) => {
    if (message.type === 'error') return failAll(new Error(`worker ${index}: ${message.message}`));
    const entry = waiting.get(message.type);
    if (entry) {
      waiting.delete(message.type);
      entry.resolve(message);
    }
  });
  child.once('exit', (code, signal) => failAll(new Error(`worker ${index} exited (${code ?? signal})`)));
  return {
    index,
    child,
    pid: child.pid,
    post: (message) => child.connected && child.send(message),
    /** Sends a command and waits for the reply of the given type. */
    ask(message, replyType, ms) {
      return new Promise((resolveReply, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(replyType);
          reject(new Error(`worker ${index}: no "${replyType}" within ${ms} ms`));
        }, ms);
        waiting.set(replyType, {
          resolve: (value) => {
            clearTimeout(timer);
            resolveReply(value);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        });
        child.send(message);
      });
    },
  };
}
