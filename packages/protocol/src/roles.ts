/** The customer's side, which records the page. Exactly one per room at a time. */
export const RECORDER = 'recorder';
/** An agent's side, which watches the page. Seed 000 also calls it "observer". */
export const REPLAYER = 'replayer';

export type Role = typeof RECORDER | typeof REPLAYER;

export function isRole(value: unknown): value is Role {
  return value === RECORDER || value === REPLAYER;
}
