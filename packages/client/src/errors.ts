/** A connection-info call failed; `status` is the HTTP status (0 when the network failed), `code` the dialect's code. */
export class ConnectionInfoError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code?: string,
  ) {
    super(message);
    this.name = 'ConnectionInfoError';
  }
}
