#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { createRelay } from './server.js';
import { ConfigError, type RelayOptions, loadConfigFile } from './options.js';

const USAGE = `Usage: cobrowse-relay [--port 8787] [--host 127.0.0.1] [--secret S] [--config file.json] [--public-url wss://…] [--internal-url ws://…] [--redis URL] [--node-id ID] [--recordings DIR] [--log-level L] [--dev]

  --port N         port to listen on (0 = any free port; default 8787)
  --host ADDR      address to bind (default 127.0.0.1)
  --secret S       HMAC secret for connection tokens, at least 32 bytes (env COBROWSE_SECRET); required without --dev
  --config FILE    JSON file with relay options (tokens, CORS origins, URLs, limits)
  --public-url U   base ws(s):// URL handed to customers as wssUrlOut (and to agents unless internalUrl is set);
                   without it the listen address is used; required when --host is 0.0.0.0 or ::
  --internal-url U base ws(s):// URL handed to agents as wssUrl (env COBROWSE_INTERNAL_URL); default the
                   listen address (a cluster node registers it: give each node its own)
  --log-level L    least severe log level: fatal, error, warn, info (default), debug, trace or silent
                   (env COBROWSE_LOG_LEVEL); logs are JSON lines on stderr
  --redis URL      make this relay a node of a cluster: redis://host:port (env COBROWSE_REDIS_URL)
  --node-id ID     this node's id in a cluster (env COBROWSE_NODE_ID; default host name + random suffix)
                   SIGTERM: a cluster node drains (its rooms move to other nodes) and exits 0
  --recordings DIR record sessions for audit into DIR (env COBROWSE_RECORDINGS_DIR; see docs/recordings.md)
  --dev            local trials only: any origin, and the credential "dev" is accepted
  --help           this text`;

function main(): void {
  let args;
  try {
    args = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        secret: { type: 'string' },
        config: { type: 'string' },
        'public-url': { type: 'string' },
        'internal-url': { type: 'string' },
        recordings: { type: 'string' },
        redis: { type: 'string' },
        'node-id': { type: 'string' },
        'log-level': { type: 'string' },
        dev: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`cobrowse-relay: ${(error as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let options: RelayOptions = {};
  try {
    if (args.config) options = loadConfigFile(args.config);
  } catch (error) {
    process.stderr.write(`cobrowse-relay: ${(error as Error).message}\n`);
    process.exit(2);
  }
  if (args.port !== undefined) {
    const port = Number(args.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      process.stderr.write(`cobrowse-relay: --port must be a number from 0 to 65535\n`);
      process.exit(2);
    }
    options.port = port;
  }
  if (args.host) options.host = args.host;
  const redis = args.redis ?? process.env.COBROWSE_REDIS_URL;
  if (redis) options.redis = redis;
  const nodeId = args['node-id'] ?? process.env.COBROWSE_NODE_ID;
  if (nodeId) options.nodeId = nodeId;
  options.secret = args.secret ?? process.env.COBROWSE_SECRET ?? options.secret;
  if (args['public-url']) options.publicUrl = args['public-url'];
  const internalUrl = args['internal-url'] ?? process.env.COBROWSE_INTERNAL_URL;
  if (internalUrl) options.internalUrl = internalUrl;
  if (args.dev) options.dev = true;
  options.operatorToken = process.env.COBROWSE_OPERATOR_TOKEN ?? options.operatorToken;
  const logLevel = args['log-level'] ?? process.env.COBROWSE_LOG_LEVEL;
  if (logLevel) options.logLevel = logLevel as RelayOptions['logLevel'];
  // Recordings: --recordings DIR (or env) sets the directory; policy and retention come from the config file.
  const recordingsDir = args.recordings ?? process.env.COBROWSE_RECORDINGS_DIR;
  if (recordingsDir) options.recordings = { ...options.recordings, dir: recordingsDir };

  let relay: ReturnType<typeof createRelay>;
  try {
    relay = createRelay(options);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`cobrowse-relay: refusing to start: ${error.message}\n`);
    process.exit(2);
  }
  relay.listen().then(
    (url) => {
      if (relay.options.dev) {
        process.stderr.write(
          '\n  !! cobrowse-relay is in DEV MODE: any web origin may call it and the credential "dev" is accepted.\n' +
            '  !! Never expose it like this; run without --dev and with --config for real use.\n\n',
        );
      }
      process.stdout.write(`cobrowse-relay listening on ${url}\n`);
    },
    (error: Error) => {
      process.stderr.write(`cobrowse-relay: cannot listen: ${error.message}\n`);
      process.exit(1);
    },
  );
  let closing = false;
  const shutdown = () => {
    if (closing) return;
    closing = true;
    relay.close().then(() => process.exit(0));
    // A cluster node drains first (at most drainTimeoutMs); either way the process ends.
    const drain = relay.options.redis ? relay.options.drainTimeoutMs : 0;
    setTimeout(() => process.exit(0), drain + 3000).unref();
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main();
