export { createRelay, type Relay, type RelayStatus } from './server.js';
export { type RelayOptions, type Principal, type AuthRequest, loadConfigFile } from './options.js';
export { DEV_CREDENTIAL } from './auth.js';
