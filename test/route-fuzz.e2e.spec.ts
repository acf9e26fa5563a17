import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { validPerpetratorReferral, validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { ADMIN_TOKEN, bearer, TestApp } from './support/test-app';

// Every operation the app publishes at /docs-json, sent a battery of malformed requests with every role's token.
// The contract (shared/contract/http-api.md, data-protection.md): a client's mistake is a 4xx with a JSON problem body
// that names the field (a 400 lists every problem), never a 5xx; no error repeats what was sent, and no header does.
// Every submitted value carries MARKER, so an echo is found wherever it lands. Violations are collected and reported
// together, described by method, path template and kind of mutation only: never by a submitted or returned value.

const MARKER = 'ZZLEAKZZ';
const GUARD_REFUSAL = 'this role may not use this route';
const CONCURRENCY = 16;

type Segment = string | number;
type Body = Record<string, unknown>;

interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: { example?: unknown; enum?: unknown[] };
  example?: unknown;
}
interface OpenApiOperation {
  parameters?: OpenApiParameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, unknown> }>;
  security?: unknown[];
}
interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  enum?: unknown[];
}
interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface Operation {
  method: string;
  template: string;
  spec: OpenApiOperation;
  pathParams: string[];
  queryParams: OpenApiParameter[];
  bodySchema?: Schema;
  /** Content types the document gives for this operation's 2xx answers (application/json when it gives none). */
  successTypes: string[];
}

/** One request to send, described without any value in it. */
interface Probe {
  op: Operation;
  /** When not the operation's own. */
  method?: string;
  role: string;
  kind: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Certainly a client mistake: the answer must be a 4xx. */
  mistake: boolean;
  /** A 400 to this probe must name this field (body field path, or query parameter) in its details. */
  names?: string;
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: Buffer;
}

// ------------------------------------------------------------------------------------------------------------------
// Valid requests, which the mutations start from
// ------------------------------------------------------------------------------------------------------------------

let serial = 0;
/** A valid body for each operation that takes one. An operation with a documented body and none here is reported. */
const BASE_BODIES: Record<string, () => Body> = {
  'POST /v1/admin/principals': () => ({ role: 'referrer', name: 'Fuzz desk', agency: 'hampshire-police' }),
  // A reference of its own per request, so that a mutation that happens to be valid is not an idempotency conflict.
  'POST /v1/referrals': () => validVictimReferral({ agencyReference: `FUZZ-${(serial += 1)}` }),
  'POST /v1/referrals/{id}/reassessments': () => ({ riskAssessment: validRiskAssessment() }),
  'POST /v1/referrals/{id}/consent': () => ({ consent: { given: true, lawfulBasis: 'consent', notes: null } }),
  'POST /v1/admin/referrals/{id}/erasure': () => ({ reason: 'made-in-error' }),
  'POST /v1/cases/{caseId}/claim': () => ({}),
  'POST /v1/cases/{caseId}/contact-attempts': () => ({ outcome: 'contacted', note: 'rang, no answer' }),
  'POST /v1/cases/{caseId}/decline': () => ({ reason: 'no capacity' }),
  'POST /v1/cases/{caseId}/transfer': () => ({ toProvision: 'outreach', reason: 'nearer to home' }),
  'POST /v1/cases/{caseId}/close': () => ({ outcome: 'other', note: 'closed' }),
};

/** Values for required query parameters the document gives no example of. */
const QUERY_DEFAULTS: Record<string, string> = { asOf: '2026-11-23T10:00:00Z', from: '2026-01-01', to: '2026-12-31' };

// ------------------------------------------------------------------------------------------------------------------
// The mutations
// ------------------------------------------------------------------------------------------------------------------

const PATH_GARBAGE: Array<[string, string]> = [
  ['not-a-uuid', `not-a-uuid-${MARKER}`],
  ['almost-a-uuid', `00000000-0000-4000-8000-${MARKER}0000`],
  ['very-long', MARKER.repeat(300)],
  ['percent-00', `${MARKER}%00`],
  ['unicode', encodeURIComponent(`${MARKER}-ünïcødé-😀-\u202e-日本`)],
  ['dot-dot-encoded-slash', `..%2F..%2F${MARKER}`],
  ['dot-dot-backslash', `..%5C${MARKER}`],
  ['bad-percent-escape', `${MARKER}%E0%A4%A`],
  ['lone-percent', `%${MARKER}`],
  ['spaces', `%20${MARKER}%20`],
  ['encoded-query', `${MARKER}%3Fa%3D1%23x`],
];

/** [kind, raw query text for parameter p, certainly not a value any parameter takes]. */
const QUERY_GARBAGE: Array<[string, (p: string) => string, boolean]> = [
  ['wrong-type', (p) => `${p}=${encodeURIComponent(`not a ${MARKER}!`)}`, true],
  ['repeated', (p) => `${p}=1&${p}=${MARKER}`, true],
  ['repeated-three', (p) => `${p}=${MARKER}&${p}=${MARKER}&${p}=${MARKER}`, true],
  ['empty', (p) => `${p}=`, true],
  ['no-value', (p) => p, false],
  ['huge-number', (p) => `${p}=${'9'.repeat(400)}`, true],
  ['negative', (p) => `${p}=-1`, false],
  ['fraction', (p) => `${p}=1.5`, false],
  ['hex', (p) => `${p}=0x10`, false],
  ['exponent', (p) => `${p}=1e3`, false],
  ['bracket-array', (p) => `${p}[]=${MARKER}`, false],
  ['bracket-object', (p) => `${p}[a]=${MARKER}`, false],
  ['percent-00', (p) => `${p}=%00${MARKER}`, true],
  ['bad-percent-escape', (p) => `${p}=%E0%A4%A${MARKER}`, true],
  ['lone-percent', (p) => `${p}=%${MARKER}`, true],
  ['unicode', (p) => `${p}=${encodeURIComponent(`${MARKER}-ünï-😀`)}`, true],
  ['long', (p) => `${p}=${MARKER.repeat(600)}`, true],
  ['garbage-cursor-like', (p) => `${p}=${Buffer.from(`o1${MARKER}`).toString('base64url')}`, false],
  ['json-in-value', (p) => `${p}=${encodeURIComponent(JSON.stringify({ a: MARKER }))}`, true],
];

/** Unknown query parameters (never "a mistake": a service may ignore what it does not know). */
const EXTRA_QUERIES: Array<[string, string]> = [
  ['unknown-parameter', `unexpectedParam=${MARKER}`],
  ['proto-parameter', `__proto__=${MARKER}&constructor=${MARKER}`],
  ['proto-bracket-parameter', `__proto__[polluted]=${MARKER}`],
  ['many-parameters', Array.from({ length: 300 }, (_, n) => `p${n}=${MARKER}`).join('&')],
];

const json = (value: unknown) => Buffer.from(JSON.stringify(value), 'utf8');
const deepArray = (levels: number) => Buffer.from(`${'['.repeat(levels)}"${MARKER}"${']'.repeat(levels)}`);
const deepObject = (levels: number) => Buffer.from(`${'{"a":'.repeat(levels)}"${MARKER}"${'}'.repeat(levels)}`);

/** Whole bodies: [kind, content type (undefined: none sent), body, certainly a mistake]. */
function bodyGarbage(base: Body | undefined): Array<[string, string | undefined, Buffer, boolean]> {
  const withExtra = json({ ...(base ?? {}), unexpectedField: MARKER });
  return [
    ['body-null', 'application/json', Buffer.from('null'), true],
    ['body-array', 'application/json', json([MARKER]), true],
    ['body-empty-array', 'application/json', Buffer.from('[]'), true],
    ['body-string', 'application/json', json(MARKER), true],
    ['body-number', 'application/json', Buffer.from('12345'), true],
    ['body-true', 'application/json', Buffer.from('true'), true],
    ['body-infinite-number', 'application/json', Buffer.from('1e400'), true],
    ['body-empty-object', 'application/json', Buffer.from('{}'), false],
    ['body-empty', 'application/json', Buffer.alloc(0), false],
    ['body-whitespace', 'application/json', Buffer.from('   \n'), true],
    ['body-deep-array-1k', 'application/json', deepArray(1000), true],
    ['body-deep-object-1k', 'application/json', deepObject(1000), true],
    ['body-deep-array-100k', 'application/json', deepArray(100_000), true],
    ['body-deep-object-40k', 'application/json', deepObject(40_000), true],
    ['body-wide-object', 'application/json', json(Object.fromEntries(Array.from({ length: 5000 }, (_, n) => [`k${n}`, MARKER]))), true],
    ['body-long-array', 'application/json', json(Array.from({ length: 20_000 }, () => MARKER)), true],
    ['body-huge-string', 'application/json', json({ ...(base ?? {}), unexpectedField: MARKER.repeat(30_000) }), true],
    ['body-too-large', 'application/json', json({ unexpectedField: MARKER.repeat(40_000) }), true],
    ['body-extra-field', 'application/json', withExtra, true],
    ['body-proto-key', 'application/json', Buffer.from(`{"__proto__":{"polluted":"${MARKER}"}}`), true],
    ['body-constructor-key', 'application/json', Buffer.from(`{"constructor":{"prototype":{"polluted":"${MARKER}"}}}`), true],
    ['json-unquoted-value', 'application/json', Buffer.from(`{"a": ${MARKER}}`), true],
    ['json-truncated', 'application/json', Buffer.from(`{"a":"${MARKER}"`), true],
    ['json-single-quotes', 'application/json', Buffer.from(`{'a':'${MARKER}'}`), true],
    ['json-bare-word', 'application/json', Buffer.from(MARKER), true],
    ['json-trailing-garbage', 'application/json', Buffer.from(`{"a":"${MARKER}"}${MARKER}`), true],
    ['json-two-documents', 'application/json', Buffer.from(`{"a":"${MARKER}"}{"b":"${MARKER}"}`), true],
    ['json-with-bom', 'application/json', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), withExtra]), true],
    ['json-invalid-utf8', 'application/json', Buffer.concat([Buffer.from(`{"a":"${MARKER}`), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]), true],
    ['json-lone-surrogate', 'application/json', Buffer.from(`{"unexpectedField":"\\ud800${MARKER}"}`), true],
    ['json-nul-in-string', 'application/json', Buffer.from(`{"unexpectedField":"${MARKER}\\u0000"}`), true],
    ['json-duplicate-keys', 'application/json', Buffer.from(`{"unexpectedField":"${MARKER}","unexpectedField":"${MARKER}"}`), true],
    ['content-type-uppercase', 'APPLICATION/JSON', withExtra, true],
    ['content-type-text-plain', 'text/plain', withExtra, true],
    ['content-type-form', 'application/x-www-form-urlencoded', Buffer.from(`a=${MARKER}`), true],
    ['content-type-multipart', 'multipart/form-data; boundary=zz', Buffer.from(`--zz\r\nContent-Disposition: form-data; name="a"\r\n\r\n${MARKER}\r\n--zz--\r\n`), true],
    ['content-type-xml', 'application/xml', Buffer.from(`<a>${MARKER}</a>`), true],
    ['content-type-octet-stream', 'application/octet-stream', withExtra, true],
    ['content-type-unknown-with-marker', `application/${MARKER}`, withExtra, true],
    ['content-type-garbage-with-marker', MARKER, withExtra, true],
    ['content-type-json-bad-charset', `application/json; charset=${MARKER}`, withExtra, true],
    ['content-type-json-utf16', 'application/json; charset=utf-16le', Buffer.from(JSON.stringify({ unexpectedField: MARKER }), 'utf16le'), true],
    ['content-type-json-suffix', 'application/problem+json', withExtra, true],
    ['content-type-json-patch', 'application/json-patch+json', withExtra, true],
    ['content-type-missing', undefined, withExtra, true],
    ['json-gzip-bytes', 'application/json', Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00]), Buffer.from(MARKER)]), true],
  ];
}

/** Values put in place of one known field: [kind, value, certainly a mistake whatever the field's type]. */
function fieldGarbage(type: string | undefined): Array<[string, unknown, boolean]> {
  const is = (t: string) => type === t;
  return [
    ['null', null, false],
    ['string', MARKER, !(is('string') || type === undefined)],
    ['long-string', MARKER.repeat(1000), true],
    ['number', 12345, !(is('number') || is('integer') || type === undefined)],
    ['boolean', true, !(is('boolean') || type === undefined)],
    ['array', [MARKER], !(is('array') || type === undefined)],
    ['nested-array', [[MARKER]], true],
    ['object', { unexpectedField: MARKER }, true],
    ['infinite-number', RAW_INFINITY, true],
    ...(is('number') || is('integer') ? ([['negative', -1, false], ['fraction', 1.5, true]] as Array<[string, unknown, boolean]>) : []),
  ];
}
const RAW_INFINITY = `@@raw-infinity-${MARKER}@@`;
const REMOVE = Symbol('remove');
const OPERATION_WIDE = '@operation: ';

// ------------------------------------------------------------------------------------------------------------------
// Reading the document
// ------------------------------------------------------------------------------------------------------------------

function resolve(schema: Schema | undefined, document: OpenApiDocument): Schema | undefined {
  let current = schema;
  for (let hops = 0; current?.$ref && hops < 20; hops += 1) current = document.components?.schemas?.[current.$ref.replace('#/components/schemas/', '')];
  if (current?.allOf) return resolve(current.allOf.find((part) => part.$ref || part.properties) ?? current.allOf[0], document);
  return current;
}

function operationsOf(document: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    for (const [method, spec] of Object.entries(methods)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const parameters = spec.parameters ?? [];
      const successTypes = Object.entries(spec.responses ?? {})
        .filter(([status]) => status.startsWith('2'))
        .flatMap(([, response]) => Object.keys(response.content ?? {}));
      operations.push({
        method: method.toUpperCase(),
        template,
        spec,
        pathParams: [...template.matchAll(/\{(\w+)\}/g)].map((match) => match[1]),
        queryParams: parameters.filter((parameter) => parameter.in === 'query'),
        bodySchema: spec.requestBody?.content?.['application/json']?.schema,
        successTypes: successTypes.length > 0 ? successTypes : ['application/json'],
      });
    }
  }
  return operations;
}

/** Where a body's fields are: those of the valid body, and those the document declares that it leaves out. */
function fieldsOf(value: unknown, schema: Schema | undefined, document: OpenApiDocument, path: Segment[] = []): Array<{ path: Segment[]; type?: string }> {
  const resolved = resolve(schema, document);
  const out: Array<{ path: Segment[]; type?: string }> = [];
  if (Array.isArray(value)) {
    if (value.length > 0) {
      out.push({ path: [...path, 0], type: typeOf(value[0]) });
      out.push(...fieldsOf(value[0], resolved?.items, document, [...path, 0]));
    }
    return out;
  }
  if (typeof value !== 'object' || value === null) return out;
  const properties = resolved?.properties ?? {};
  const keys = new Set([...Object.keys(value), ...Object.keys(properties)]);
  for (const key of keys) {
    const child = (value as Body)[key];
    const declared = resolve(properties[key], document);
    const type = child === undefined || child === null ? declared?.type ?? (declared?.properties ? 'object' : undefined) : typeOf(child);
    out.push({ path: [...path, key], type });
    out.push(...fieldsOf(child, properties[key], document, [...path, key]));
  }
  return out;
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value === 'number' ? (Number.isInteger(value) ? 'integer' : 'number') : typeof value;
}

/** The object paths of a body (its root included), for unknown fields. */
function objectPaths(value: unknown, path: Segment[] = []): Segment[][] {
  if (Array.isArray(value)) return value.length > 0 ? objectPaths(value[0], [...path, 0]) : [];
  if (typeof value !== 'object' || value === null) return [];
  return [path, ...Object.entries(value).flatMap(([key, child]) => objectPaths(child, [...path, key]))];
}

function withField(base: Body, path: Segment[], value: unknown): Buffer {
  const copy = structuredClone(base) as Record<Segment, unknown>;
  let node = copy;
  for (const segment of path.slice(0, -1)) {
    if (typeof node[segment] !== 'object' || node[segment] === null) node[segment] = {};
    node = node[segment] as Record<Segment, unknown>;
  }
  const last = path[path.length - 1];
  if (value === REMOVE) delete node[last];
  else node[last] = value;
  return Buffer.from(JSON.stringify(copy).replace(`"${RAW_INFINITY}"`, '1e400'), 'utf8');
}

const fieldName = (path: Segment[]) => path.reduce<string>((name, segment) => (typeof segment === 'number' ? `${name}[${segment}]` : name ? `${name}.${segment}` : segment), '');

// ------------------------------------------------------------------------------------------------------------------
// Sending, over a real socket with a keep-alive agent (supertest opens a connection per request, and a raw client
// sends the path exactly as written: no URL normalisation)
// ------------------------------------------------------------------------------------------------------------------

function send(port: number, agent: http.Agent, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<Answer | Error> {
  return new Promise((resolveAnswer) => {
    const outgoing: Record<string, string> = { ...headers };
    if (body !== undefined) outgoing['content-length'] = String(body.length);
    let request: http.ClientRequest;
    try {
      request = http.request({ host: '127.0.0.1', port, method, path, headers: outgoing, agent });
    } catch (error) {
      resolveAnswer(error as Error);
      return;
    }
    request.setTimeout(15_000, () => request.destroy(new Error('timed out')));
    request.on('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolveAnswer({ status: response.statusCode ?? 0, headers: response.headers, rawHeaders: response.rawHeaders, body: Buffer.concat(chunks) }));
      response.on('error', (error) => resolveAnswer(error));
    });
    // A server may answer (413) before reading a large body and close: the answer counts, the broken pipe does not.
    request.on('error', (error) => resolveAnswer(error));
    request.end(body);
  });
}

async function pool<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]);
    }),
  );
}

// ------------------------------------------------------------------------------------------------------------------
// Judging an answer
// ------------------------------------------------------------------------------------------------------------------

/** Where in a JSON value a string holds the marker: paths only, never the text. */
function markerPaths(value: unknown, path = '$'): string[] {
  if (typeof value === 'string') return value.includes(MARKER) ? [path] : [];
  if (Array.isArray(value)) return value.flatMap((item, index) => markerPaths(item, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => [
      ...(key.includes(MARKER) ? [`${path} (a key)`] : []),
      ...markerPaths(child, `${path}.${key.includes(MARKER) ? '<key>' : key}`),
    ]);
  }
  return [];
}

function problemsOf(probe: Probe, answer: Answer): string[] {
  const problems: string[] = [];
  const { status } = answer;
  if (status >= 500) problems.push('server error');
  if (probe.mistake && !(status >= 400 && status < 500)) problems.push('a client mistake accepted (not a 4xx)');

  const contentType = String(answer.headers['content-type'] ?? '');
  const text = answer.body.toString('utf8');
  let parsed: unknown;
  let isJson = false;
  if (/^application\/json\b/i.test(contentType)) {
    try {
      parsed = JSON.parse(text);
      isJson = true;
    } catch {
      problems.push('content-type says JSON, the body is not');
    }
  }
  if (status >= 400) {
    if (!isJson) problems.push(`error body is not JSON (content-type ${contentType.split(';')[0] || 'none'}, ${answer.body.length} bytes)`);
    else {
      const body = parsed as { statusCode?: unknown; error?: unknown; message?: unknown; details?: unknown };
      if (typeof body !== 'object' || body === null || body.statusCode !== status || typeof body.error !== 'string' || typeof body.message !== 'string') {
        problems.push('error body is not the contract problem shape { statusCode, error, message }');
      }
      if (status === 400) {
        const details = body?.details;
        const wellFormed =
          Array.isArray(details) && details.length > 0 && details.every((d) => typeof d === 'object' && d !== null && typeof d.field === 'string' && typeof d.problem === 'string');
        if (!wellFormed) problems.push('no details naming the field(s)');
        else if (probe.names !== undefined) {
          const name = probe.names;
          // The field itself, a field inside it, or the object or list that holds it (`children` for a bad item).
          const named = (details as Array<{ field: string }>).some(
            ({ field }) => field === name || field.startsWith(`${name}.`) || field.startsWith(`${name}[`) || (field !== '' && (name.startsWith(`${field}.`) || name.startsWith(`${field}[`))),
          );
          if (!named) problems.push(`400 does not name the field "${name}"`);
        }
      }
    }
  } else if (status >= 200 && status < 300 && status !== 204 && answer.body.length > 0) {
    const documented = probe.op.successTypes.some((type) => contentType.toLowerCase().startsWith(type.toLowerCase()));
    // A property of the operation, not of the mutation: reported once per operation (see `report`).
    if (!documented) problems.push(`${OPERATION_WIDE}${status} answered with content-type ${contentType.split(';')[0] || 'none'}, which /docs-json does not document (it says ${probe.op.successTypes.join(' | ')})`);
  }

  // Errors only: a valid value that carries the marker (a caseworker's note) is stored, and a case's history rightly
  // shows it back on the next 200.
  if (status >= 400 && (text.includes(MARKER) || answer.body.toString('latin1').includes(MARKER))) {
    const where = isJson ? markerPaths(parsed) : [];
    problems.push(`submitted value echoed in the body${where.length > 0 ? ` at ${[...new Set(where)].slice(0, 4).join(', ')}` : ''}`);
  }
  for (let index = 0; index < answer.rawHeaders.length; index += 2) {
    if (answer.rawHeaders[index + 1].includes(MARKER) || answer.rawHeaders[index].includes(MARKER)) {
      problems.push(`submitted value echoed in the ${answer.rawHeaders[index].toLowerCase()} header`);
    }
  }
  return problems.map((problem) => (problem.startsWith(OPERATION_WIDE) ? problem : `${status}: ${problem}`));
}

// ------------------------------------------------------------------------------------------------------------------

describe('every published route, fuzzed with malformed requests', () => {
  let app: TestApp;
  let port: number;
  let agent: http.Agent;
  let document: OpenApiDocument;
  let operations: Operation[];
  const tokens: Record<string, string> = {};
  /** Real ids, so that a mutation reaches as far into a route as it can. */
  const ids: Record<string, string> = {};
  /** An IDVA case per case action (`read` for the GET), so that each action's body checks reach its validation. */
  const caseIds: Record<string, string> = {};
  const allowed = new Map<Operation, string[]>();
  /** Operations whose valid request was answered 2xx by an allowed role: the body checks reach their validation. */
  const reached = new Set<Operation>();

  beforeAll(async () => {
    // The router runs, so that the case and Encompass routes have real cases and notifications to act on.
    // As fast as it can, with a handful of tokens: the rate limit has a test of its own.
    app = await TestApp.start(undefined, { SPOC_RATE_LIMIT: '0' });
    tokens.admin = ADMIN_TOKEN;
    tokens.referrer = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
    tokens.caseworker = (await app.createPrincipal({ role: 'caseworker', name: 'IDVA worker', provision: 'idva' })).token;
    tokens.auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    const refer = async (name: string, body: Body) => {
      const response = await app.http().post('/v1/referrals').set(bearer(tokens.referrer)).send(body);
      if (response.status !== 202) throw new Error(`could not create the ${name} referral: ${response.status}`);
      ids[name] = response.body.referralId;
      return (await app.http().get(`/v1/referrals/${ids[name]}?waitForRoutes=5000`).set(bearer(tokens.referrer))).body as { routes: Array<{ provision: string; caseId: string }>; encompass: Array<{ notificationId: string }> };
    };
    for (const name of ['referral', 'changeable']) await refer(name, validVictimReferral({ agencyReference: `FUZZ-BASE-${name}` }));
    // Routed nowhere (Up2U needs the behaviour acknowledged), so no case stands in the way of erasing it.
    await refer('erasable', validPerpetratorReferral({ agencyReference: 'FUZZ-BASE-erasable', perpetratorProgramme: { acknowledgesBehaviour: false, selfReferral: false } }));
    // An IDVA case of its own for each case action (the first action to succeed moves it on); claimed but for claim's.
    for (const action of ['claim', 'contact-attempts', 'decline', 'transfer', 'close', 'read']) {
      const routed = await refer(`case-${action}`, validVictimReferral({ agencyReference: `FUZZ-CASE-${action}`, riskAssessment: validRiskAssessment({ answers: Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < 15 ? 'yes' : 'no'])) }) }));
      const idva = routed.routes.find((route) => route.provision === 'idva');
      if (!idva) throw new Error(`the ${action} referral was not routed to the IDVA`);
      caseIds[action] = idva.caseId;
      if (action !== 'claim' && action !== 'read') await app.http().post(`/v1/cases/${idva.caseId}/claim`).set(bearer(tokens.caseworker)).send({}).expect(200);
      if (action === 'read') ids.notification = routed.encompass[0]?.notificationId ?? randomUUID();
    }
    document = (await app.http().get('/docs-json').expect(200)).body as OpenApiDocument;
    operations = operationsOf(document);
    await app.app.listen(0, '127.0.0.1');
    port = (app.app.getHttpServer().address() as AddressInfo).port;
    agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  }, 30_000);

  afterAll(async () => {
    agent?.destroy();
    await app?.close();
  });

  /**
   * A valid value for a path parameter: a real referral for referral routes, a real case or notification for theirs,
   * the caller's provision, else a fresh UUID.
   * Routes that change a referral get one of their own: a mutation that happens to be valid (a marker as free-text
   * notes) is stored, and an auditor reading the other one's history would rightly be shown it.
   */
  function validParam(op: Operation, name: string): string {
    if (name === 'provision') return 'idva';
    if (name === 'caseId') return caseIds[/^\/v1\/cases\/\{caseId\}\/([a-z-]+)$/.exec(op.template)?.[1] ?? 'read'] ?? randomUUID();
    if (name === 'id' && op.template.startsWith('/v1/encompass/')) return ids.notification;
    if (name === 'id' && op.template.startsWith('/v1/admin/referrals/')) return ids.erasable;
    if (name === 'id' && op.method !== 'GET' && /\/referrals\/\{id\}/.test(op.template)) return ids.changeable;
    if (name === 'id' && /\/referrals\/\{id\}/.test(op.template)) return ids.referral;
    return randomUUID();
  }

  function pathOf(op: Operation, replace: Record<string, string> = {}): string {
    return op.template.replace(/\{(\w+)\}/g, (_, name: string) => replace[name] ?? validParam(op, name));
  }

  function baseQuery(op: Operation, except?: string): string[] {
    return op.queryParams
      .filter((parameter) => parameter.required && parameter.name !== except)
      .map((parameter) => `${parameter.name}=${encodeURIComponent(String(parameter.schema?.example ?? parameter.example ?? QUERY_DEFAULTS[parameter.name] ?? 'x'))}`);
  }

  const url = (path: string, query: string[]) => (query.length > 0 ? `${path}?${query.join('&')}` : path);
  const baseBody = (op: Operation) => BASE_BODIES[`${op.method} ${op.template}`]?.();
  const takesBody = (op: Operation) => op.method !== 'GET';
  const authenticated = (op: Operation) => (op.spec.security ?? []).length > 0;

  function request(op: Operation, role: string, kind: string, parts: { path?: string; query?: string[]; body?: Buffer | null; contentType?: string | null; headers?: Record<string, string>; mistake?: boolean; names?: string }): Probe {
    const base = baseBody(op);
    const body = parts.body === null ? undefined : parts.body ?? (takesBody(op) && base ? json(base) : undefined);
    const headers: Record<string, string> = { accept: 'application/json', ...(tokens[role] ? { authorization: `Bearer ${tokens[role]}` } : {}) };
    const contentType = parts.contentType === undefined ? (body !== undefined ? 'application/json' : undefined) : parts.contentType;
    if (contentType !== null && contentType !== undefined) headers['content-type'] = contentType;
    return {
      op,
      role,
      kind,
      path: url(parts.path ?? pathOf(op), parts.query ?? baseQuery(op)),
      headers: { ...headers, ...parts.headers },
      body,
      mistake: parts.mistake ?? false,
      names: parts.names,
    };
  }

  function battery(op: Operation, role: string, isAllowed: boolean): Probe[] {
    const probes: Probe[] = [];
    const base = baseBody(op);
    // Path parameters, one at a time, the others valid.
    for (const name of op.pathParams) {
      for (const [kind, garbage] of PATH_GARBAGE) probes.push(request(op, role, `path {${name}} ${kind}`, { path: pathOf(op, { [name]: garbage }), mistake: true }));
    }
    probes.push(request(op, role, 'path trailing garbage segment', { path: `${pathOf(op)}/${MARKER}`, mistake: true }));
    probes.push(request(op, role, 'path double slash', { path: pathOf(op).replace('/v1/', '/v1//'), mistake: false }));
    // A broken escape where no value was submitted: the marker is only in the query string.
    probes.push(request(op, role, 'path bad percent escape, marker only in the query', { path: `${pathOf(op)}%E0%A4%A`, query: [...baseQuery(op), `unexpectedParam=${MARKER}`], mistake: true }));
    // Methods the document does not give for this path.
    const documentedMethods = operations.filter((other) => other.template === op.template).map((other) => other.method);
    for (const method of ['PUT', 'PATCH'].filter((candidate) => !documentedMethods.includes(candidate))) {
      probes.push({ ...request(op, role, `method ${method} not documented`, { body: json({ unexpectedField: MARKER }) }), method, mistake: true });
    }
    // Query parameters: each documented one (and the contract's paging ones everywhere), the required others valid.
    const queryNames = [...new Set([...op.queryParams.map((parameter) => parameter.name), 'limit', 'cursor'])];
    for (const name of queryNames) {
      const documented = op.queryParams.some((parameter) => parameter.name === name);
      for (const [kind, garbage, mistake] of QUERY_GARBAGE) {
        probes.push(request(op, role, `query ${name} ${kind}${documented ? '' : ' (undocumented here)'}`, { query: [...baseQuery(op, name), garbage(name)], mistake: mistake && documented, names: documented && mistake && isAllowed ? name : undefined }));
      }
    }
    for (const parameter of op.queryParams.filter((candidate) => candidate.required)) {
      probes.push(request(op, role, `query ${parameter.name} missing`, { query: baseQuery(op, parameter.name), mistake: true, names: isAllowed ? parameter.name : undefined }));
    }
    for (const [kind, query] of EXTRA_QUERIES) probes.push(request(op, role, `query ${kind}`, { query: [...baseQuery(op), query] }));
    // Whole bodies: wrong shapes, broken JSON, wrong content types. Only a route that takes a body must refuse them.
    for (const [kind, contentType, body, mistake] of bodyGarbage(base)) {
      probes.push(request(op, role, kind, { body, contentType: contentType ?? null, mistake: mistake && takesBody(op) && base !== undefined }));
    }
    // Each known field of a valid body set to the wrong type, removed, or given an unknown neighbour.
    if (base && takesBody(op)) {
      const check = isAllowed && reached.has(op);
      for (const { path, type } of fieldsOf(base, op.bodySchema, document)) {
        const field = fieldName(path);
        for (const [kind, value, mistake] of fieldGarbage(type)) {
          // A value of the right type can make another field wrong (highRisk: true needs a rationale): only a wrong
          // value, or a missing one, must be blamed on this field.
          const blamed = check && (mistake || kind === 'null');
          probes.push(request(op, role, `field ${field} = ${kind}`, { body: withField(baseBody(op)!, path, value), mistake, names: blamed ? field : undefined }));
        }
        probes.push(request(op, role, `field ${field} removed`, { body: withField(baseBody(op)!, path, REMOVE), names: check ? field : undefined }));
      }
      for (const path of objectPaths(base)) {
        const at = fieldName([...path, 'unexpectedField']);
        probes.push(request(op, role, `field ${at} added`, { body: withField(baseBody(op)!, [...path, 'unexpectedField'], MARKER), mistake: true, names: check ? at : undefined }));
      }
    }
    return probes;
  }

  function headerBattery(op: Operation, role: string): Probe[] {
    const needsToken = authenticated(op);
    const probes = [
      request(op, role, 'header no token', { headers: {}, mistake: needsToken }),
      request(op, role, 'header unknown bearer token', { headers: { authorization: `Bearer ${MARKER.repeat(4)}` }, mistake: needsToken }),
      request(op, role, 'header token with bad characters', { headers: { authorization: `Bearer ${MARKER}!!${MARKER}` }, mistake: needsToken }),
      request(op, role, 'header unknown scheme', { headers: { authorization: `${MARKER} ${tokens[role] ?? ''}` }, mistake: needsToken }),
      request(op, role, 'header correlation id not a uuid', { headers: { 'x-correlation-id': MARKER } }),
      request(op, role, 'header accept text/html', { headers: { accept: 'text/html' } }),
      request(op, role, 'header unknown content-encoding', { headers: { 'content-encoding': MARKER } }),
      request(op, role, 'header gzip content-encoding on plain JSON', { headers: { 'content-encoding': 'gzip' } }),
    ];
    // The first is sent with no Authorization header at all.
    delete probes[0].headers.authorization;
    return probes;
  }

  it('answers every malformed request with a JSON 4xx that names the field, never a 5xx, never echoing what was sent', async () => {
    const roles = Object.keys(tokens);
    const started = Date.now();
    expect(operations.length).toBeGreaterThan(20);
    const violations = new Map<string, Set<string>>();
    const report = (probe: Probe, problem: string) => {
      const wide = problem.startsWith(OPERATION_WIDE);
      const key = `${probe.op.method} ${probe.op.template} | ${wide ? 'any request answered 2xx' : probe.kind} | ${wide ? problem.slice(OPERATION_WIDE.length) : problem}`;
      if (!violations.has(key)) violations.set(key, new Set());
      violations.get(key)!.add(probe.role);
    };

    // Which roles each route lets in (the guard's refusal has a fixed text), from its valid request.
    for (const op of operations) {
      const mayCall: string[] = [];
      for (const role of roles) {
        const probe = request(op, role, 'valid request', {});
        const answer = await send(port, agent, op.method, probe.path, probe.headers, probe.body);
        if (answer instanceof Error) {
          report(probe, `no answer (${answer.message})`);
          continue;
        }
        for (const problem of problemsOf(probe, answer)) report(probe, problem);
        const refused = answer.status === 403 && answer.body.toString('utf8').includes(GUARD_REFUSAL);
        if (!refused) mayCall.push(role);
        if (!refused && answer.status >= 200 && answer.status < 300) reached.add(op);
      }
      allowed.set(op, mayCall);
      if (authenticated(op) && mayCall.length === 0) report({ op, role: '-', kind: 'coverage' } as Probe, 'no role the fuzz has may call it');
      if (op.bodySchema && !BASE_BODIES[`${op.method} ${op.template}`]) report({ op, role: '-', kind: 'coverage' } as Probe, 'documented body but no valid body in BASE_BODIES');
    }

    const probes: Probe[] = [];
    for (const op of operations) {
      for (const role of roles) probes.push(...battery(op, role, allowed.get(op)!.includes(role)));
      probes.push(...headerBattery(op, allowed.get(op)![0] ?? roles[0]));
    }
    await pool(probes, CONCURRENCY, async (probe) => {
      const answer = await send(port, agent, probe.method ?? probe.op.method, probe.path, probe.headers, probe.body);
      if (answer instanceof Error) report(probe, `no answer (${answer.message.split(':')[0]})`);
      else for (const problem of problemsOf(probe, answer)) report(probe, problem);
    });

    // The app is still well after all of it.
    const health = await send(port, agent, 'GET', '/health', {});
    expect(health instanceof Error ? 'no answer' : health.status).toBe(200);

    const listed = [...violations.entries()].map(([key, who]) => `${key} | as ${[...who].sort().join(',')}`).sort();
    // eslint-disable-next-line no-console
    console.log(
      `route fuzz: ${probes.length + operations.length * roles.length} requests over ${operations.length} operations in ${Date.now() - started} ms; ` +
        `bodies validated for: ${[...reached].filter((op) => baseBody(op) && takesBody(op)).map((op) => `${op.method} ${op.template}`).join(', ')}`,
    );
    expect(listed).toEqual([]);
  }, 120_000);
});
