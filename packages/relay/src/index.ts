export { createRelay, type Relay, type RelayStatus } from './server.js';
export {
  type RelayOptions,
  type Principal,
  type AuthRequest,
  ConfigError,
  MIN_SECRET_BYTES,
  loadConfigFile,
} from './options.js';
export { type LogLevel, LOG_LEVELS } from './log.js';
export { type Rooms, type RoomHooks, type Member } from './rooms.js';
export { DEV_CREDENTIAL } from './auth.js';
