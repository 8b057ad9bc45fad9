import { AgentOp, type AgentAction, type Control, ControlState, type Message, isInputOp } from '@cobrowse/protocol';
import { type ActPolicy, act } from './act.js';
import { askConsent, type Consent } from './consent.js';
import type { Overlay } from './overlay.js';

/** Who an agent is, as the customer's page knows it (from the relay's stamp on its frames). */
export interface AgentInfo {
  /** The agent's user id. */
  readonly id: string;
  /** The agent's display name. */
  readonly name: string;
}

/** A `control` event of either session. */
export interface ControlEvent {
  readonly state: ControlState;
  readonly agent: AgentInfo;
}

export interface AgentToolsOptions {
  /** Allow remote control at all (default true): false answers every request "denied" without asking. */
  control?: boolean;
  /** Replaces the built-in consent prompt: resolve true to allow. */
  onControlRequest?: (agent: AgentInfo) => boolean | Promise<boolean>;
  /** How long the customer has to answer, ms (default 60 s). */
  controlTimeoutMs?: number;
}

interface Holder {
  /** Connection id (the relay's `from`). */
  readonly from: string;
  readonly agent: AgentInfo;
}

export interface AgentToolsHost {
  send(message: Message): boolean;
  overlay: Overlay;
  node(id: number): Node | null;
  policy: ActPolicy;
  emit(event: ControlEvent): void;
  /** The indicator: who is in control (undefined: nobody). */
  showController(name: string | undefined): void;
  error(error: unknown): void;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** An agent may prompt the customer this many times a minute; more requests are denied without asking. */
const PROMPTS_PER_MINUTE = 3;

const infoOf = (action: { user?: string; name?: string }): AgentInfo => ({
  id: action.user ?? 'agent',
  name: (action.name ?? action.user ?? 'Agent').slice(0, 80),
});

/**
 * The customer's side of agent tools: draws pointers and highlights, asks for consent, and performs
 * the controlling agent's input. Acts only on input stamped (by the relay) with the connection id
 * control was granted to; control lives in memory only, so it never survives a reload.
 */
export class AgentTools {
  private holder: Holder | undefined;
  private asking: { from: string; consent?: Consent } | undefined;
  /**
   * When each agent (by user id, from the relay's stamp) last prompted the customer: a denied agent
   * cannot nag, and reconnecting (a new connection id) does not reset its count.
   */
  private readonly prompts = new Map<string, number[]>();

  constructor(
    private readonly options: AgentToolsOptions,
    private readonly host: AgentToolsHost,
  ) {}

  get controller(): AgentInfo | undefined {
    return this.holder?.agent;
  }

  /** An agent's frame (the relay has stamped `from`, `user`, `name`). */
  onAgent(action: AgentAction): void {
    const from = action.from;
    if (!from) return;
    try {
      if (isInputOp(action.op)) return this.input(from, action);
      switch (action.op) {
        case AgentOp.PointerMove:
          if (typeof action.x === 'number' && typeof action.y === 'number')
            this.host.overlay.pointer(from, infoOf(action).name, action.x, action.y);
          return;
        case AgentOp.PointerLeave:
          return this.host.overlay.hidePointer(from);
        case AgentOp.Highlight: {
          if (typeof action.id === 'number' && action.id > 0) {
            const node = this.host.node(action.id);
            if (node && node.nodeType === 1) this.host.overlay.highlight(from, node as Element);
          } else if ([action.x, action.y, action.w, action.h].every((v) => typeof v === 'number')) {
            this.host.overlay.highlight(from, { x: action.x!, y: action.y!, w: action.w!, h: action.h! });
          }
          return;
        }
        case AgentOp.ClearHighlights:
          return this.host.overlay.clearHighlights(from);
        case AgentOp.RequestControl:
          return void this.request(from, infoOf(action));
        case AgentOp.ReleaseControl:
          if (this.holder?.from === from) this.end();
          return;
      }
    } catch (error) {
      this.host.error(error);
    }
  }

  /** The relay's `control` frame (it ends control when the agent disconnects). */
  onControl(message: Control): void {
    if (message.state !== ControlState.Ended) return;
    if (this.holder?.from === message.agent) this.end(false);
    if (this.asking?.from === message.agent) this.asking.consent?.cancel();
  }

  private async request(from: string, agent: AgentInfo): Promise<void> {
    const answer = (state: ControlState) => {
      this.host.send({ type: 'control', state, agent: from, user: agent.id, name: agent.name });
      this.host.emit({ state, agent });
    };
    if (this.holder?.from === from) return answer(ControlState.Granted);
    if (this.options.control === false || this.holder || this.asking || this.nagging(agent.id))
      return answer(ControlState.Denied);
    this.asking = { from };
    answer(ControlState.Requested);
    let allowed = false;
    try {
      const timeout = this.options.controlTimeoutMs ?? DEFAULT_TIMEOUT_MS;
      if (this.options.onControlRequest) {
        allowed = await Promise.race([
          Promise.resolve(this.options.onControlRequest(agent)),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeout)),
        ]);
      } else {
        const overlay = this.host.overlay;
        const consent = askConsent(overlay.root, () => overlay.mount(), agent.name, timeout);
        this.asking.consent = consent;
        allowed = await consent.answer;
      }
    } catch (error) {
      this.host.error(error);
    }
    const stillAsking = this.asking?.from === from;
    this.asking = undefined;
    if (!stillAsking) return; // withdrawn meanwhile (agent gone, session reset)
    if (allowed !== true) return answer(ControlState.Denied);
    this.holder = { from, agent };
    this.host.showController(agent.name);
    answer(ControlState.Granted);
  }

  private nagging(user: string): boolean {
    const now = Date.now();
    const recent = (this.prompts.get(user) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= PROMPTS_PER_MINUTE) return true;
    recent.push(now);
    this.prompts.set(user, recent);
    if (this.prompts.size > 100) this.prompts.delete(this.prompts.keys().next().value!);
    return false;
  }

  private input(from: string, action: AgentAction): void {
    // Only the agent control was granted to; anything else (forged, replayed, late) does nothing.
    if (!this.holder || this.holder.from !== from) return;
    const node = action.op === AgentOp.Scroll && !action.id ? null : this.host.node(action.id ?? -1);
    const why = act(action, node, this.host.policy);
    if (why) this.host.send({ type: 'refused', agent: from, op: action.op, id: action.id, reason: why });
  }

  /** Ends control (the customer took it back, the agent released it, or the session reset). */
  end(tell = true): void {
    const holder = this.holder;
    if (!holder) return;
    this.holder = undefined;
    this.host.showController(undefined);
    if (tell)
      this.host.send({
        type: 'control',
        state: ControlState.Ended,
        agent: holder.from,
        user: holder.agent.id,
        name: holder.agent.name,
      });
    this.host.emit({ state: ControlState.Ended, agent: holder.agent });
  }

  /** The socket reconnected: control never carries over (the relay ends it too). */
  reset(): void {
    this.asking?.consent?.cancel();
    this.asking = undefined;
    this.end(false);
  }

  remove(): void {
    this.reset();
    this.host.overlay.remove();
  }
}
