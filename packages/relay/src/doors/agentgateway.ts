import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  AGENT_ID_MAX,
  AGENT_ID_MIN,
  AGENTGATEWAY_PATTERN,
  type AgentgatewayResponse,
  AgentgatewayRetcode,
} from '@cobrowse/protocol';
import { BodyError, header, readJsonBody, sendJson } from '../http-util.js';
import { type Core, validRoomId } from '../core.js';
import { authenticate } from '../auth.js';
import type { Router } from '../router.js';

type Reply = (status: number, body: AgentgatewayResponse) => void;

/**
 * Seed 003: `POST /agentgateway/resource/mediacall/{agentid}/getconnectinfo`. An agent whose console
 * dropped gets a fresh replayer connection to the call's room — only while that call is going on.
 */
export function agentgatewayDoor(core: Core, router: Router): void {
  router.on('POST', AGENTGATEWAY_PATTERN, (req, res, [agentId]) =>
    getConnectInfo(core, req, res, decodeURIComponent(agentId!)),
  );
  router.otherwise('/agentgateway/', (req, res, [why]) => {
    req.resume();
    sendJson(res, why === 'wrong-method' ? 405 : 404, {
      retcode: AgentgatewayRetcode.BadParameter,
      message: why === 'wrong-method' ? 'this interface supports only the POST method' : 'no such resource',
    });
  });
  router.onError('/agentgateway/', (res) => sendJson(res, 500, { retcode: '100-001', message: 'internal error' }));
}

function refuse(reply: Reply, status: number, retcode: string, message: string): void {
  reply(status, { retcode, message });
}

async function getConnectInfo(core: Core, req: IncomingMessage, res: ServerResponse, agentId: string): Promise<void> {
  const reply: Reply = (status, body) => sendJson(res, status, body);
  const number = /^\d{1,5}$/.test(agentId) ? Number(agentId) : NaN;
  if (!(number >= AGENT_ID_MIN && number <= AGENT_ID_MAX)) {
    req.resume();
    return refuse(
      reply,
      400,
      AgentgatewayRetcode.BadParameter,
      `agentid must be a number from ${AGENT_ID_MIN} to ${AGENT_ID_MAX}`,
    );
  }
  const guid = header(req, 'guid');
  const principal = await authenticate(core.options, req, 'agentgateway', guid, core.options.agentGuids);
  if (!principal) {
    req.resume();
    return refuse(
      reply,
      401,
      AgentgatewayRetcode.NotAuthenticated,
      guid ? 'the Guid is not valid: sign in again' : 'missing Guid header',
    );
  }
  let body: Record<string, unknown>;
  try {
    body = await readJsonBody(req, core.options.maxBodyBytes);
  } catch (error) {
    if (error instanceof BodyError) return refuse(reply, error.status, AgentgatewayRetcode.BadParameter, error.message);
    throw error;
  }
  for (const field of ['userType', 'callid'] as const) {
    if (typeof body[field] !== 'string' || !body[field])
      return refuse(reply, 400, AgentgatewayRetcode.BadParameter, `${field} is mandatory`);
  }
  if (body.userType !== 'agent')
    return refuse(reply, 400, AgentgatewayRetcode.BadParameter, 'userType must be "agent"');
  const callid = body.callid as string;
  if (!validRoomId(callid) || !core.roomLive(callid))
    return refuse(
      reply,
      404,
      AgentgatewayRetcode.UnknownCall,
      `no call ${JSON.stringify(callid.slice(0, 64))} is going on`,
    );
  const info = await core.issue(req, {
    roomId: callid,
    role: 'replayer',
    userId: agentId,
    userName: `Agent ${agentId}`,
  });
  const { internal, external } = core.baseUrls(req);
  const inUrl = new URL(internal.replace(/^ws/, 'http'));
  reply(200, {
    retcode: AgentgatewayRetcode.Ok,
    message: 'success',
    result: {
      userId: agentId,
      ctime: String(info.expiresAt),
      channelId: callid,
      role: 'replayer',
      ip: inUrl.hostname,
      port: inUrl.port || (inUrl.protocol === 'https:' ? '443' : '80'),
      signalingDomainIn: internal.replace(/^ws/, 'http'),
      signalingDomainOut: external.replace(/^ws/, 'http'),
      locationId: core.options.locationId,
      signature: info.signature,
      appId: core.options.appId,
    },
  });
}
