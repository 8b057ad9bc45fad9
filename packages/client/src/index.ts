export { Emitter } from './emitter.js';
export { InOrder } from './in-order.js';
export {
  type ConnectionOptions,
  type Connection,
  type ConnectionInfoProvider,
  type ConnectionInfoRequest,
  type Dialect,
  type ConnectionInfoSource,
  ConnectionInfoError,
  connectionInfoSource,
  warmService,
  type WarmedService,
} from './connection-info.js';
export {
  DIALECTS,
  FIRST_CALLS,
  type FirstCall,
  type DialectName,
  type DialectFactory,
  type DialectClient,
} from './dialects.js';
export { Channel, type ChannelStatus, type ChannelEvents, type ChannelOptions } from './channel.js';
