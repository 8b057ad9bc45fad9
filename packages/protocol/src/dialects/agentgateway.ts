/** Seed 003: agent reconnect, `POST /agentgateway/resource/mediacall/{agentid}/getconnectinfo`. */
export const AGENTGATEWAY_PATTERN = /^\/agentgateway\/resource\/mediacall\/([^/]*)\/getconnectinfo$/;
export const agentgatewayPath = (agentId: string | number) =>
  `/agentgateway/resource/mediacall/${encodeURIComponent(String(agentId))}/getconnectinfo`;
export const AGENT_ID_MIN = 101;
export const AGENT_ID_MAX = 59999;

export interface AgentgatewayRequest {
  readonly userType: string;
  readonly callid: string;
}

export interface AgentgatewayResult {
  readonly userId: string;
  /** Expiry of the signature, ms since epoch, as a string. */
  readonly ctime: string;
  /** Room id (the call id). */
  readonly channelId: string;
  readonly role: string;
  readonly ip: string;
  readonly port: string;
  /** `https://host:port` of the relay for agents inside the network. */
  readonly signalingDomainIn: string;
  /** `https://host:port` of the relay for outside callers. */
  readonly signalingDomainOut: string;
  readonly locationId: string;
  readonly signature: string;
  readonly appId: string;
}

export interface AgentgatewayResponse {
  readonly retcode: string;
  readonly message: string;
  readonly result?: AgentgatewayResult;
}

/** retcode values: the seed's error codes, and what this relay means by each. */
export const AgentgatewayRetcode = {
  Ok: '0',
  /** The Guid header is missing or not valid: the agent is not authenticated. */
  NotAuthenticated: '100-007',
  /** No call (co-browse room) with this call id is going on. */
  UnknownCall: '106-011',
  /** A parameter is wrong: agent id out of 101..59999, or a body field missing. */
  BadParameter: '106-015',
} as const;
