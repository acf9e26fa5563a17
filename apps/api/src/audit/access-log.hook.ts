import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, type Principal } from '../shared/auth/principal';
import { accessedOn } from '../shared/audit/accessed';
import type { AccessLog, AccessRecord } from './access-log';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Routes whose `:id` is a referral id. */
const REFERRAL_ROUTES = /^\/v1\/(audit\/|admin\/)?referrals\/:id(\/|$)/;

/** Case data lives behind every /v1 route but principal management (an erasure is recorded: it changes case data). */
export function isRecordedRoute(pattern: string | undefined): pattern is string {
  return pattern !== undefined && pattern.startsWith('/v1/') && (!pattern.startsWith('/v1/admin/') || pattern.startsWith('/v1/admin/referrals/'));
}

/**
 * The access record of one answered request, or null for routes that hold no case data and for requests nobody
 * signed (no valid token: a 401). Those consulted nothing, name no one to account for, and anyone who can reach the
 * port could otherwise fill the immutable log with them; `spoc_http_requests_total{status="401"}` counts them.
 * Ids come from the route's parameters (only well-formed ones: a path can carry any text) and from what the
 * controller named.
 */
export function accessRecordOf(
  request: FastifyRequest,
  statusCode: number,
  at: Date,
  route: RecordedRoute | null = routeOf(request.method, request.routeOptions.url),
): AccessRecord | null {
  const principal = (request as unknown as { principal?: Principal }).principal;
  if (!route || !principal) return null;
  const params = (request.params ?? {}) as Record<string, unknown>;
  const accessed = accessedOn(request);
  const referralIds = [...accessed.referralIds];
  const caseIds = [...accessed.caseIds];
  if (route.idIsReferral && typeof params.id === 'string' && UUID.test(params.id)) referralIds.unshift(params.id.toLowerCase());
  if (typeof params.caseId === 'string' && UUID.test(params.caseId)) caseIds.unshift(params.caseId.toLowerCase());
  return {
    actor: actorOf(principal),
    method: request.method,
    route: route.name,
    referralIds: referralIds.length > 1 ? [...new Set(referralIds)] : referralIds,
    caseIds: caseIds.length > 1 ? [...new Set(caseIds)] : caseIds,
    // A 404 is a denial too: scope is enforced by answering "no such referral".
    outcome: statusCode === 401 || statusCode === 403 || statusCode === 404 ? 'denied' : 'allowed',
    statusCode,
    at: at.toISOString(),
    correlationId: (request as unknown as { correlationId?: string }).correlationId ?? '',
  };
}

interface RecordedRoute {
  name: string;
  idIsReferral: boolean;
}

// Worked out once per route and method.
const routes = new Map<string, RecordedRoute | null>();

function routeOf(method: string, pattern: string | undefined): RecordedRoute | null {
  const key = `${method} ${pattern}`;
  let route = routes.get(key);
  if (route === undefined) {
    route = isRecordedRoute(pattern) ? { name: key, idIsReferral: REFERRAL_ROUTES.test(pattern) } : null;
    routes.set(key, route);
  }
  return route;
}

/**
 * One hook sees both outcomes: the guard refuses before any interceptor runs, but every answer, the exception
 * filter's included, passes onResponse. It only buffers (see AccessLog), so the answer is already on its way.
 * The hook is given to each recorded route as it is registered, knowing its route: asking the request for its
 * route options builds them anew on every call, which was half the hook's cost. Must run before the routes are.
 */
export function installAccessLog(fastify: FastifyInstance, log: AccessLog): void {
  fastify.addHook('onRoute', (options) => {
    for (const method of [options.method].flat()) {
      const route = routeOf(method, options.url);
      if (!route) continue;
      const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
        // A route registered for several methods gets one hook per method: each records only its own.
        if (request.method !== method) return done();
        const record = accessRecordOf(request, reply.statusCode, new Date(), route);
        if (record) log.record(record);
        done();
      };
      options.onResponse = [...[options.onResponse ?? []].flat(), hook];
    }
  });
}
