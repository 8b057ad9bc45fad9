export * from './version.js';
export * from './codes.js';
export * from './roles.js';
export * from './messages.js';
export * from './frame.js';
export * from './token.js';
export * from './connection-info.js';
export { toBase64Url, fromBase64Url } from './base64url.js';
