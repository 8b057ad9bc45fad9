import {
  AGENT_TOOLS_VERSION,
  AgentOp,
  type AgentAction,
  type Control,
  ControlState,
  type Refused,
  encodeText,
  isInputOp,
  toBase64Url,
} from '@cobrowse/protocol';
import type { Room, Peer } from './room.js';
import { TokenBucket } from './limiter.js';

/**
 * The relay's part in agent tools: it stamps every agent action with the sender's identity, learns
 * who holds remote control from the recorder's `control` frames, and drops input from any agent who
 * does not hold it. Kept apart from the room (a few hooks in the gateway call in here): the state
 * lives in a WeakMap keyed by room, so it goes when the room does.
 */

/** Agent actions per second one agent may send (pointer moves come once a frame at most). */
const AGENT_RATE = 120;

interface Identity {
  readonly user: string;
  readonly name?: string;
}

interface RoomControl {
  /** The agent holding control, if any. */
  holder: Peer | undefined;
  /** The agent the customer is being asked about (the recorder said `requested`), if any. */
  asking: Peer | undefined;
  /** Protocol version of the room's recorder (agent frames go only to one that speaks tools). */
  recorderVersion: number;
}

const rooms = new WeakMap<Room, RoomControl>();
const ids = new WeakMap<Peer, string>();
const rates = new WeakMap<Peer, TokenBucket>();
const versions = new WeakMap<Peer, number>();
const identities = new WeakMap<Peer, Identity>();

function stateOf(room: Room): RoomControl {
  let state = rooms.get(room);
  if (!state) {
    state = { holder: undefined, asking: undefined, recorderVersion: 1 };
    rooms.set(room, state);
  }
  return state;
}

/** A peer's connection id: random, one per socket, never sent by the peer itself. */
export function agentId(peer: Peer): string {
  let id = ids.get(peer);
  if (!id) {
    id = toBase64Url(crypto.getRandomValues(new Uint8Array(9)));
    ids.set(peer, id);
  }
  return id;
}

function send(peer: Peer | undefined, text: string): void {
  if (peer && peer.socket.readyState === peer.socket.OPEN) peer.socket.send(text);
}

function speaksTools(peer: Peer): boolean {
  return (versions.get(peer) ?? peer.v ?? 1) >= AGENT_TOOLS_VERSION;
}

/** Tells every replayer that speaks tools about control (the agent concerned gets `mine: true`). */
function broadcast(room: Room, message: Control): void {
  for (const peer of room.replayers) {
    if (!speaksTools(peer)) continue;
    send(peer, encodeText(agentId(peer) === message.agent ? { ...message, mine: true } : message));
  }
}

function ended(peer: Peer, identity: Identity = identities.get(peer) ?? { user: peer.user }): Control {
  return {
    type: 'control',
    state: ControlState.Ended,
    agent: agentId(peer),
    user: identity.user,
    ...(identity.name ? { name: identity.name } : {}),
  };
}

/** Hook: a recorder said hello. Control never survives a reconnect or a reload: whoever held it loses it. */
export function recorderJoined(room: Room, recorder: Peer, version: number): void {
  const state = stateOf(room);
  versions.set(recorder, version);
  state.recorderVersion = version;
  state.asking = undefined;
  const holder = state.holder;
  if (!holder) return;
  state.holder = undefined;
  broadcast(room, ended(holder));
}

/** Hook: a socket left the room. A controlling agent's grant ends; so does any grant when the recorder goes. */
export function peerLeft(room: Room, peer: Peer, identity: Identity): void {
  const state = rooms.get(room);
  if (!state) return;
  if (state.asking === peer) {
    // The customer is no longer asked about an agent who has gone (the recorder withdraws its prompt).
    state.asking = undefined;
    if (state.holder !== peer) send(room.recorder, encodeText(ended(peer, identity)));
  }
  if (state.holder === peer) {
    state.holder = undefined;
    const message = ended(peer, identity);
    send(room.recorder, encodeText(message));
    broadcast(room, message);
  } else if (state.holder && peer === room.recorder) {
    const holder = state.holder;
    state.holder = undefined;
    broadcast(room, ended(holder));
  }
  // Its pointer disappears from the customer's page.
  if (room.recorder && room.recorder !== peer && state.recorderVersion >= AGENT_TOOLS_VERSION && ids.has(peer)) {
    send(
      room.recorder,
      encodeText({ type: 'agent', op: AgentOp.PointerLeave, from: agentId(peer), user: identity.user }),
    );
  }
}

/**
 * Hook: an agent's `agent` frame. Stamped with the sender's identity and forwarded to the recorder,
 * unless it is input from an agent who does not hold control, a control request while another agent
 * holds it (answered "denied" here), or over the agent's rate. Never throws for a dropped frame:
 * a watching agent's forged input simply does nothing. Returns whether it was forwarded (the recording
 * keeps only those).
 */
export function agentAction(room: Room, peer: Peer, identity: Identity, message: AgentAction): boolean {
  const state = stateOf(room);
  const recorder = room.recorder;
  if (!recorder || state.recorderVersion < AGENT_TOOLS_VERSION) {
    // Nobody here can say yes: answer at once rather than leave the agent waiting.
    if (message.op === AgentOp.RequestControl)
      send(
        peer,
        encodeText({
          type: 'control',
          state: ControlState.Denied,
          agent: agentId(peer),
          user: identity.user,
          mine: true,
        }),
      );
    return false;
  }
  let rate = rates.get(peer);
  if (!rate) rates.set(peer, (rate = new TokenBucket(AGENT_RATE, 2 * AGENT_RATE)));
  if (!rate.take(1)) return false;
  const from = agentId(peer);
  identities.set(peer, identity);
  if (isInputOp(message.op) && state.holder !== peer) return false;
  if (message.op === AgentOp.ReleaseControl && state.holder !== peer) return false;
  if (message.op === AgentOp.RequestControl && state.holder && state.holder !== peer) {
    send(
      peer,
      encodeText({ type: 'control', state: ControlState.Denied, agent: from, user: identity.user, mine: true }),
    );
    return false;
  }
  const stamped: AgentAction = {
    ...message,
    from,
    user: identity.user,
    ...(identity.name ? { name: identity.name } : { name: undefined }),
  };
  send(recorder, encodeText(stamped));
  return true;
}

/** Who a replayer is, from its token (the relay's word, never the recorder's). */
function identityOf(peer: Peer): Identity {
  const claims = (peer as Peer & { claims?: { user?: unknown; name?: unknown } }).claims;
  const name = typeof claims?.name === 'string' && claims.name ? claims.name : identities.get(peer)?.name;
  return { user: peer.user, ...(name ? { name } : {}) };
}

/**
 * Hook: the recorder's `control` or `refused` frame. Dropped unless `agent` is a replayer in the
 * room (a recorder cannot address, or invent, anyone else). `granted` makes that agent the holder
 * (only if nobody else holds control); `denied`/`ended` for the holder ends it. The `user` and
 * `name` the agents see come from the agent's own token: whatever the recorder wrote there is
 * replaced, so a page cannot pass a request off as someone else's. Forwarded to the replayers (a
 * refusal only to the agent concerned).
 */
export function recorderControl(room: Room, message: Control | Refused): void {
  const target = [...room.replayers].find((peer) => ids.get(peer) === message.agent);
  if (!target) return;
  if (message.type === 'refused') {
    const { agent, op, id, reason } = message;
    if (speaksTools(target)) send(target, encodeText({ type: 'refused', agent, op, id, reason }));
    return;
  }
  const state = stateOf(room);
  if (message.state === ControlState.Requested) state.asking = target;
  else if (state.asking === target) state.asking = undefined;
  if (message.state === ControlState.Granted) {
    if (state.holder && state.holder !== target) return;
    state.holder = target;
  } else if (message.state === ControlState.Ended || message.state === ControlState.Denied) {
    if (state.holder === target) state.holder = undefined;
  }
  const identity = identityOf(target);
  broadcast(room, {
    type: 'control',
    state: message.state,
    agent: message.agent,
    user: identity.user,
    ...(identity.name ? { name: identity.name } : {}),
  });
}
