import type { Redis } from 'ioredis';
import { NODE_KEY_PREFIX, claimKey, nodeKey } from './keys.js';
import { type Candidate, rendezvous } from './rendezvous.js';

/**
 * Claims a room for a candidate node, atomically: a claim whose owner is still registered stands
 * (its owner is returned); a free claim, or one whose owner's registration expired, goes to the
 * candidate, provided the candidate is registered itself. Returns the owner, or nil when the
 * candidate is gone (the caller picks another).
 * KEYS: claim, candidate's node key. ARGV: candidate id, claim TTL ms, node key prefix.
 */
const CLAIM = `
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[3] .. owner) == 1 then return owner end
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;

/**
 * The holder of rooms renews its claims: each claim that is its own, free, or of an expired owner
 * is (re)set to it; a claim a live node took meanwhile is left alone and that node returned.
 * KEYS: claims. ARGV: holder id, claim TTL ms, node key prefix.
 */
const RENEW = `
local out = {}
for i = 1, #KEYS do
  local owner = redis.call('GET', KEYS[i])
  if owner == ARGV[1] or not owner or redis.call('EXISTS', ARGV[3] .. owner) == 0 then
    redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2])
    out[i] = ARGV[1]
  else
    out[i] = owner
  end
end
return out`;

/** Deletes the claims that are still the holder's. KEYS: claims. ARGV: holder id. */
const RELEASE = `
local n = 0
for i = 1, #KEYS do
  if redis.call('GET', KEYS[i]) == ARGV[1] then
    redis.call('DEL', KEYS[i])
    n = n + 1
  end
end
return n`;

/** The live owner of a claim, or nil. KEYS: claim. ARGV: node key prefix. */
const OWNER = `
local owner = redis.call('GET', KEYS[1])
if owner and redis.call('EXISTS', ARGV[1] .. owner) == 1 then return owner end
return false`;

interface PlacementCommands {
  cobrowseClaim(
    claim: string,
    candidateKey: string,
    candidate: string,
    ttl: number,
    prefix: string,
  ): Promise<string | null>;
  cobrowseRenew(count: number, ...args: (string | number)[]): Promise<string[]>;
  cobrowseRelease(count: number, ...args: string[]): Promise<number>;
  cobrowseOwner(claim: string, prefix: string): Promise<string | null>;
}

/** Claims renewed or released per script call. */
const BATCH = 500;

/**
 * Room placement: each room (by its room key) lives on one node, named by a claim in Redis. The
 * first request for a room picks a live node by weighted rendezvous hashing and claims it with a
 * script (a compare-and-set: two nodes racing never split a room); later requests read the claim.
 */
export class Placement {
  private readonly redis: Redis & PlacementCommands;

  constructor(
    redis: Redis,
    readonly selfId: string,
    /** How long a claim lasts without renewal, ms (its holder renews it on every heartbeat). */
    private readonly claimTtlMs: number,
  ) {
    redis.defineCommand('cobrowseClaim', { numberOfKeys: 2, lua: CLAIM });
    redis.defineCommand('cobrowseRenew', { lua: RENEW });
    redis.defineCommand('cobrowseRelease', { lua: RELEASE });
    redis.defineCommand('cobrowseOwner', { numberOfKeys: 1, lua: OWNER });
    this.redis = redis as Redis & PlacementCommands;
  }

  /** Claims the room for `node` unless a live node holds it; returns the owner (null: `node` is not registered). */
  claim(room: string, node: string): Promise<string | null> {
    return this.redis.cobrowseClaim(claimKey(room), nodeKey(node), node, this.claimTtlMs, NODE_KEY_PREFIX);
  }

  /**
   * The room's owner: its live claim, else the node rendezvous hashing picks among `candidates`
   * (claimed now). Undefined when no candidate is left (none registered).
   */
  async place(room: string, candidates: readonly Candidate[]): Promise<string | undefined> {
    const left = [...candidates];
    for (let attempt = 0; attempt < 4; attempt++) {
      const pick = rendezvous(room, left);
      if (!pick) return (await this.owner(room)) ?? undefined;
      const owner = await this.claim(room, pick.id);
      if (owner) return owner;
      left.splice(left.indexOf(pick), 1); // registered no more: the next best
    }
    return (await this.owner(room)) ?? undefined;
  }

  /** The room's live owner, without claiming. */
  owner(room: string): Promise<string | null> {
    return this.redis.cobrowseOwner(claimKey(room), NODE_KEY_PREFIX);
  }

  /** Renews this node's claims on the rooms it holds; returns the rooms a live node took from it, with that node. */
  async renew(rooms: readonly string[]): Promise<Map<string, string>> {
    const lost = new Map<string, string>();
    for (let i = 0; i < rooms.length; i += BATCH) {
      const batch = rooms.slice(i, i + BATCH);
      const owners = await this.redis.cobrowseRenew(
        batch.length,
        ...batch.map(claimKey),
        this.selfId,
        this.claimTtlMs,
        NODE_KEY_PREFIX,
      );
      batch.forEach((room, j) => {
        if (owners[j] !== this.selfId) lost.set(room, owners[j]!);
      });
    }
    return lost;
  }

  /** Gives up this node's claims on these rooms (on drain). */
  async release(rooms: readonly string[]): Promise<void> {
    for (let i = 0; i < rooms.length; i += BATCH) {
      const batch = rooms.slice(i, i + BATCH);
      await this.redis.cobrowseRelease(batch.length, ...batch.map(claimKey), this.selfId);
    }
  }
}
