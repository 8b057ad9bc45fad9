import { createHash } from 'node:crypto';

/** A node placement may choose: its id and its load (rooms it holds). */
export interface Candidate {
  readonly id: string;
  readonly load: number;
}

/** Rooms at which a node's weight halves: a busy node still gets new rooms, only fewer. */
const ROOMS_PER_HALF_WEIGHT = 100;

/** A stable number in (0, 1) for a room and a node. */
function unit(room: string, node: string): number {
  const digest = createHash('sha256').update(room).update('\0').update(node).digest();
  // 52 bits, shifted off zero: ln() below never sees 0 or 1.
  const high = digest.readUInt32BE(0) >>> 12; // 20 bits
  const low = digest.readUInt32BE(4); // 32 bits
  return (high * 2 ** 32 + low + 0.5) / 2 ** 52;
}

/**
 * Weighted rendezvous (highest random weight) hashing: every node that sees the same candidates
 * picks the same one for a room, a node joining or leaving moves only the rooms it wins or held,
 * and a node's share of new rooms falls as its load grows (weight 1 / (1 + load / 100)).
 */
export function rendezvous(room: string, candidates: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  let bestScore = -Infinity;
  for (const candidate of candidates) {
    const weight = 1 / (1 + Math.max(0, candidate.load) / ROOMS_PER_HALF_WEIGHT);
    const score = weight / -Math.log(unit(room, candidate.id));
    if (score > bestScore || (score === bestScore && best && candidate.id < best.id)) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}
