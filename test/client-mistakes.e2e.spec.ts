import { randomUUID } from 'node:crypto';
import { bearer, TestApp } from './support/test-app';

// A client's mistake is a 4xx that names the field, never a 500, and no answer repeats what was sent.
describe('client mistakes in the query, the URL and the header', () => {
  let app: TestApp;
  let auditor: string;
  let police: string;
  beforeAll(async () => {
    app = await TestApp.start(undefined, { SPOC_RUN_ROUTER: 'false' });
    auditor = (await app.createPrincipal({ role: 'auditor', name: 'Board' })).token;
    police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
  });
  afterAll(() => app.close());

  const get = (url: string, token: string) => app.http().get(url).set(bearer(token));

  it('answers a date far in the future with a 400 on its field, on every route that takes a date', async () => {
    for (const [url, field] of [
      ['/v1/audit/access-log?to=9999-12-31', 'to'],
      ['/v1/audit/access-log?from=9999-12-31', 'from'],
      ['/v1/audit/access-log?from=2026-01-01T00:00:00Z&to=9999-12-31T23:59:59.999-14:00', 'to'],
      ['/v1/reports/performance?from=2026-01-01&to=9999-12-31', 'to'],
      ['/v1/reports/performance?from=9999-12-31&to=9999-12-31', 'from'],
      ['/v1/reports/performance.csv?from=2026-01-01&to=3000-01-01', 'to'],
      ['/v1/marac/meetings?from=9999-12-31', 'from'],
    ]) {
      const response = await get(url, auditor);
      expect({ url, status: response.status }).toEqual({ url, status: 400 });
      expect(response.body.details).toContainEqual({ field, problem: 'must not be after 2999-12-31' });
    }
    await get('/v1/reports/performance?from=2999-12-31&to=2999-12-31', auditor).expect(200);
    await get('/v1/audit/access-log?from=2999-12-31', auditor).expect(200);
  });

  it('refuses an asOf that is not a real calendar instant with an offset', async () => {
    const state = (asOf: string) => get(`/v1/audit/referrals/${randomUUID()}/state?asOf=${encodeURIComponent(asOf)}`, auditor);
    for (const asOf of ['2026-02-30T00:00:00Z', '2026-11-23T24:00:00Z', '2026-11-23T10:00:00', '2026-11-23']) {
      const response = await state(asOf);
      expect({ asOf, status: response.status }).toEqual({ asOf, status: 400 });
      expect(response.body.details).toEqual([{ field: 'asOf', problem: expect.any(String) }]);
    }
    await state('2026-02-28T23:59:59+01:00').expect(404);
  });

  it('takes waitForRoutes only as plain decimal digits from 0 to 5000', async () => {
    const read = (wait: string) => get(`/v1/referrals/${randomUUID()}?waitForRoutes=${wait}`, police);
    for (const wait of ['', '0x10', '1e3', '+5', '-1', '1.0', '5001', ' 5']) {
      const response = await read(encodeURIComponent(wait));
      expect({ wait, status: response.status }).toEqual({ wait, status: 400 });
      expect(response.body.details).toEqual([{ field: 'waitForRoutes', problem: 'must be a whole number of milliseconds from 0 to 5000' }]);
    }
    // Valid waits pass the check; the referral does not exist, so the answer is the usual 404.
    for (const wait of ['0', '05', '5000']) await read(wait).expect(404);
  });

  it('answers a URL that cannot be routed (a broken escape, an over-long part) in its own words, never quoting it', async () => {
    const broken = await get('/v1/referrals/%E0%A4%A?name=Sam%20Taylor', police).expect(400);
    expect(broken.body).toEqual({ statusCode: 400, error: 'Bad Request', message: 'the URL is not valid', details: [{ field: 'url', problem: expect.any(String) }] });
    expect(broken.headers['x-correlation-id']).toMatch(/^[0-9a-f-]{36}$/);
    const long = await get(`/v1/referrals/${'Taylor'.repeat(30)}`, police).expect(414);
    expect(long.body).toEqual({ statusCode: 414, error: 'URI Too Long', message: 'a part of the path is too long' });
    for (const answer of [broken, long]) expect(JSON.stringify(answer.body)).not.toMatch(/Sam|Taylor|referrals/);
  });

  it('answers a route that does not exist with a fixed message, never the URL', async () => {
    const response = await get('/v1/search?name=Sam%20Taylor', auditor).expect(404);
    expect(response.body).toEqual({ statusCode: 404, error: 'Not Found', message: 'no such route' });
    expect(JSON.stringify(response.body)).not.toMatch(/Sam|Taylor|search/);
    const unauthenticated = await app.http().delete('/v1/referrals/Sam-Taylor').expect(404);
    expect(unauthenticated.body.message).toBe('no such route');
    // Our own 404s keep their texts.
    expect((await get(`/v1/referrals/${randomUUID()}`, police).expect(404)).body.message).toBe('no such referral');
  });

  it('does not let a slow client hold a connection for ever: a whole request in 30 s, a socket idle at most 60 s', () => {
    // Fastify's defaults turn Node's timeouts off; waiting them out here would take a minute, so the server says.
    const server = app.app.getHttpServer() as { requestTimeout: number; timeout: number };
    expect(server.requestTimeout).toBe(30_000);
    expect(server.timeout).toBe(60_000);
  });

  it('answers 429 with Retry-After once a token has used its burst, and sooner still to guesses without one', async () => {
    const limited = await TestApp.start(undefined, { SPOC_RUN_ROUTER: 'false', SPOC_RATE_LIMIT: '2' });
    try {
      const { token } = await limited.createPrincipal({ role: 'auditor', name: 'Busy board' });
      const answers = [];
      // Twenty at once (ten seconds' worth), and then a few more: at 2 a second, those are refused.
      for (let n = 0; n < 24; n += 1) answers.push(await limited.http().get('/v1/audit/routing-failures').set(bearer(token)));
      expect(answers.slice(0, 20).map((answer) => answer.status)).toEqual(Array(20).fill(200));
      const refused = answers.filter((answer) => answer.status === 429);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused[0].headers['retry-after']).toMatch(/^\d+$/);
      expect(refused[0].body).toMatchObject({ statusCode: 429, message: expect.stringMatching(/too many requests/) });
      // Without a valid token, a tenth of the rate from one address: the third guess in a row is already refused.
      const guesses = [];
      for (let n = 0; n < 3; n += 1) guesses.push((await limited.http().get('/v1/audit/routing-failures').set(bearer('not-a-token-at-all-000'))).status);
      expect(guesses).toEqual([401, 401, 429]);
    } finally {
      await limited.close();
    }
  });

  it('takes the Authorization scheme in any case', async () => {
    for (const scheme of ['bearer', 'BEARER', 'bEaReR']) {
      await app.http().get(`/v1/referrals/${randomUUID()}`).set('Authorization', `${scheme} ${police}`).expect(404);
    }
    await app.http().get(`/v1/referrals/${randomUUID()}`).set('Authorization', `Basic ${police}`).expect(401);
  });
});
