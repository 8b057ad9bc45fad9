/**
 * Room scopes: which dialect's rooms a credential reaches. Seed 003 (agent reconnect) is the agent
 * side of calls opened through seed 000, so it shares that scope (as a replayer only).
 */
export const Scope = {
  cec: (tenant?: string) => (tenant ? `cec:${tenant}` : 'cec'),
  apiaccess: (tenant: string) => `apiaccess:${tenant}`,
  session: 'session',
  passphrase: 'passphrase',
} as const;
