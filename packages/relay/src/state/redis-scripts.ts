import type { Redis } from 'ioredis';

/** Server time in ms (one clock for every node), a bucket's level now, and how to store it. */
const BUCKET = `
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function level(key, per, now)
  local v = redis.call('HMGET', key, 't', 'l')
  local tokens = tonumber(v[1])
  if not tokens then return per end
  return math.min(per, tokens + (now - tonumber(v[2])) * per / 60000)
end
local function store(key, tokens, now)
  redis.call('HSET', key, 't', tostring(tokens), 'l', tostring(now))
  redis.call('PEXPIRE', key, 61000)
end
local function wait(tokens, per)
  return math.max(1, math.ceil((1 - tokens) * 60 / per))
end
`;

/**
 * Token bucket (KEYS[1]) of ARGV[1] per minute, bursts of as many: ARGV[2] = 1 takes one (returns
 * 0, or the seconds to wait), -1 gives one back. A missing bucket is full, and a bucket expires
 * once it would be full again, so nothing outlives a minute of quiet.
 */
const TAKE = `${BUCKET}
local per = tonumber(ARGV[1])
local amount = tonumber(ARGV[2])
if per <= 0 then return 0 end
local now = now_ms()
local tokens = level(KEYS[1], per, now)
if amount < 0 then
  store(KEYS[1], math.min(per, tokens - amount), now)
  return 0
end
if tokens < amount then return wait(tokens, per) end
store(KEYS[1], tokens - amount, now)
return 0
`;

/**
 * A passphrase guess, decided and reserved in one step: KEYS[1] the address's bucket (ARGV[1] per
 * minute), KEYS[2] the bucket of all addresses (ARGV[2]). Returns {wait, flag}: wait > 0 refuses
 * (flag 1: because of the total); else flag 1 = one was taken from the total.
 */
const GUESS = `${BUCKET}
local pa = tonumber(ARGV[1])
local pt = tonumber(ARGV[2])
local now = now_ms()
local a = nil
if pa > 0 then a = level(KEYS[1], pa, now) end
if a and a < 1 then return {wait(a, pa), 0} end
local t = nil
if pt > 0 then t = level(KEYS[2], pt, now) end
if t and t < 1 and a and a < pa then return {wait(t, pt), 1} end
if a then store(KEYS[1], a - 1, now) end
if t and t >= 1 then
  store(KEYS[2], t - 1, now)
  return {0, 1}
end
return {0, 0}
`;

/**
 * Sets fields of a JSON record (KEYS[1]) from the JSON object ARGV[1]; with ARGV[2] = '1' only
 * fields still unset. When something changed, ARGV[3] is the record's new TTL in ms ('' keeps it).
 * Returns the record after, or nil when there is none.
 */
const PATCH = `
local raw = redis.call('GET', KEYS[1])
if not raw then return false end
local record = cjson.decode(raw)
local changed = false
for k, v in pairs(cjson.decode(ARGV[1])) do
  if ARGV[2] ~= '1' or record[k] == nil or record[k] == cjson.null then
    if record[k] ~= v then
      record[k] = v
      changed = true
    end
  end
end
if changed then
  raw = cjson.encode(record)
  if ARGV[3] ~= '' then redis.call('SET', KEYS[1], raw, 'PX', ARGV[3]) else redis.call('SET', KEYS[1], raw, 'KEEPTTL') end
end
return raw
`;

/**
 * Redeems a passphrase for one side, once: KEYS[1] the passphrase's key (holding ARGV[1], the
 * session id), KEYS[2] the session record, KEYS[3] the customer-token index. ARGV: id, side,
 * initiator wanted, now (ms), customer token hash, TTL of the index (ms). Returns 'invalid',
 * 'used' or the record after; once both sides have joined the passphrase is deleted.
 */
const REDEEM = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'invalid' end
local raw = redis.call('GET', KEYS[2])
if not raw then return 'invalid' end
local s = cjson.decode(raw)
if s.ended or tonumber(ARGV[4]) > s.expiresAt then return 'invalid' end
if s.initiator ~= ARGV[3] then return 'used' end
if ARGV[2] == 'customer' then
  if s.customerJoined then return 'used' end
  s.customerJoined = true
  s.customerHash = ARGV[5]
  redis.call('SET', KEYS[3], ARGV[1], 'PX', ARGV[6])
else
  if s.agentJoined then return 'used' end
  s.agentJoined = true
end
if s.customerJoined and s.agentJoined then
  redis.call('DEL', KEYS[1])
  s.passphrase = nil
end
raw = cjson.encode(s)
redis.call('SET', KEYS[2], raw, 'KEEPTTL')
return raw
`;

/** The relay's Lua scripts, run atomically by Redis (ioredis sends EVALSHA, EVAL when not cached). */
export interface Scripted {
  cobrowseTake(key: string, perMinute: number, amount: number): Promise<number>;
  cobrowseGuess(addressKey: string, totalKey: string, perAddress: number, perTotal: number): Promise<[number, number]>;
  cobrowsePatch(key: string, patch: string, onlyUnset: '0' | '1', ttlMs: string): Promise<string | null>;
  cobrowseRedeem(
    codeKey: string,
    sessionKey: string,
    customerKey: string,
    id: string,
    side: string,
    initiator: string,
    now: number,
    customerHash: string,
    ttlMs: number,
  ): Promise<string>;
}

export type ScriptedRedis = Redis & Scripted;

export function defineScripts(redis: Redis): ScriptedRedis {
  redis.defineCommand('cobrowseTake', { numberOfKeys: 1, lua: TAKE });
  redis.defineCommand('cobrowseGuess', { numberOfKeys: 2, lua: GUESS });
  redis.defineCommand('cobrowsePatch', { numberOfKeys: 1, lua: PATCH });
  redis.defineCommand('cobrowseRedeem', { numberOfKeys: 3, lua: REDEEM });
  return redis as ScriptedRedis;
}
