/**
 * Agent tools on the wire (protocol v3): what an agent asks of the customer's page (pointer,
 * highlight, remote control) and what the customer's page answers. Codes are explicit and stable:
 * never renumber, only add.
 */

/** What an `agent` frame asks for. Grouped by domain: 100s pointer, 200s highlight, 300s control, 400s input. */
export const AgentOp = {
  /** The agent's pointer is at `x`,`y` (CSS px in the customer's viewport). */
  PointerMove: 100,
  /** The agent's pointer left the replay. */
  PointerLeave: 101,
  /** Mark element `id` (rrweb node id), or the page rectangle `x`,`y`,`w`,`h` (CSS px, page coordinates). */
  Highlight: 200,
  /** Remove this agent's highlights. */
  ClearHighlights: 201,
  /** Ask the customer for remote control. */
  RequestControl: 300,
  /** Give control back. */
  ReleaseControl: 301,
  /** Click element `id` (needs control). */
  Click: 400,
  /** Set the text of input or textarea `id` to `value`; `commit` also fires `change` (needs control). */
  SetValue: 401,
  /** Choose `value` in select `id` (needs control). */
  Select: 402,
  /** Scroll element `id` (0 or absent: the window) to `x`,`y` (needs control). */
  Scroll: 403,
  /** Press `key` (only "Enter") in element `id`: submits its form (needs control). */
  Key: 404,
} as const;
export type AgentOp = (typeof AgentOp)[keyof typeof AgentOp];

export const AGENT_OPS: ReadonlySet<number> = new Set(Object.values(AgentOp));

/** Ops that act on the page: the relay forwards them only from the agent holding control. */
export function isInputOp(op: number): boolean {
  return op >= 400 && op < 500;
}

/** States a `control` frame reports (the same strings as the SDKs' `control` events). */
export const ControlState = {
  /** An agent asked; the customer is being asked. */
  Requested: 'requested',
  /** The customer allowed it: that agent's input now acts on the page. */
  Granted: 'granted',
  /** The customer said no (or did not answer, or control is forbidden or held by another agent). */
  Denied: 'denied',
  /** Control is over (released, taken back, agent gone, page reloaded). */
  Ended: 'ended',
} as const;
export type ControlState = (typeof ControlState)[keyof typeof ControlState];

export const CONTROL_STATES: ReadonlySet<string> = new Set(Object.values(ControlState));

/** Longest text an agent may set in one `SetValue` (the whole header must still fit the header limit). */
export const MAX_AGENT_VALUE_LENGTH = 1000;
/** Largest coordinate accepted (CSS px): bounds what a forged frame can ask for. */
export const MAX_AGENT_COORDINATE = 1_000_000;
