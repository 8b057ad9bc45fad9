import {
  AGENT_ID_MAX,
  AGENT_ID_MIN,
  AGENTGATEWAY_PATTERN,
  type AgentgatewayResponse,
  AgentgatewayRetcode,
} from '@cobrowse/protocol';
import { header } from '../http-util.js';
import { type Core, Scope, validRoomId } from '../core.js';
import { authenticate } from '../auth.js';
import { Door, Refusal } from '../door.js';
import type { Router } from '../router.js';

/**
 * Seed 003: `POST /agentgateway/resource/mediacall/{agentid}/getconnectinfo`. An agent whose console
 * dropped gets a fresh replayer connection to the call's room — only while that call is going on,
 * and only to calls opened through seed 000 (the agent side of that dialect), never as recorder.
 */
export function agentgatewayDoor(core: Core, router: Router): void {
  const door = new Door(core, router, {
    name: 'agentgateway',
    prefix: '/agentgateway/',
    refusal: (r) => ({
      retcode:
        r.code ??
        (r.kind === 'unauthorized'
          ? AgentgatewayRetcode.NotAuthenticated
          : r.kind === 'internal' || r.kind === 'unavailable'
            ? '100-001'
            : AgentgatewayRetcode.BadParameter),
      message: r.kind === 'method' ? 'this interface supports only the POST method' : r.message,
    }),
  });
  door.route({
    method: 'POST',
    path: AGENTGATEWAY_PATTERN,
    credential: async (req) => {
      const guid = header(req, 'guid');
      const principal = await authenticate(core.options, req, 'agentgateway', guid, core.options.agentGuids);
      if (!principal)
        throw new Refusal('unauthorized', guid ? 'the Guid is not valid: sign in again' : 'missing Guid header');
      return principal;
    },
    handle: async ({ req, params: [agentId], body, principal }) => {
      const number = /^\d{1,5}$/.test(agentId!) ? Number(agentId) : NaN;
      if (!(number >= AGENT_ID_MIN && number <= AGENT_ID_MAX))
        throw new Refusal('bad-request', `agentid must be a number from ${AGENT_ID_MIN} to ${AGENT_ID_MAX}`);
      for (const field of ['userType', 'callid'] as const) {
        if (typeof body[field] !== 'string' || !body[field]) throw new Refusal('bad-request', `${field} is mandatory`);
      }
      if (body.userType !== 'agent') throw new Refusal('bad-request', 'userType must be "agent"');
      const callid = body.callid as string;
      const scope = Scope.cec(principal.tenant);
      if (!validRoomId(callid) || !(await core.roomLive(scope, callid)))
        throw new Refusal(
          'not-found',
          `no call ${JSON.stringify(callid.slice(0, 64))} is going on`,
          AgentgatewayRetcode.UnknownCall,
        );
      // The room's node (in a cluster, its owner) names every address in the reply.
      const { info, owner } = await core.issueAt(req, {
        scope,
        roomId: callid,
        role: 'replayer',
        userId: agentId!,
        userName: `Agent ${agentId}`,
        principalId: principal.id,
      });
      const { internal, external } = owner;
      const inUrl = new URL(internal.replace(/^ws/, 'http'));
      const reply: AgentgatewayResponse = {
        retcode: AgentgatewayRetcode.Ok,
        message: 'success',
        result: {
          userId: agentId!,
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
      };
      return reply;
    },
  });
}
