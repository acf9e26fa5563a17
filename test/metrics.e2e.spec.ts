import { randomUUID } from 'node:crypto';
import { validRiskAssessment, validVictimReferral } from '../apps/api/src/referrals/referral.fixtures';
import { ADMIN_TOKEN, bearer, TestApp } from './support/test-app';

const answers = (yes: number) => Object.fromEntries(Array.from({ length: 24 }, (_, n) => [`Q${n + 1}`, n < yes ? 'yes' : 'no']));

/** Every sample line: a name, optional labels, a value (the exposition format's grammar, without timestamps). */
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*"(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*")*\})? (-?[0-9.e+-]+|NaN|\+Inf|-Inf)$/;

describe('GET /metrics', () => {
  let app: TestApp;
  let police: string;

  beforeAll(async () => {
    app = await TestApp.start();
    police = (await app.createPrincipal({ role: 'referrer', name: 'Police desk', agency: 'hampshire-police' })).token;
  });
  afterAll(() => app.close());

  const scrape = async () => (await app.http().get('/metrics').expect(200)).text;
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('answers without a token, in the Prometheus text format, every sample under a declared family', async () => {
    const response = await app.http().get('/metrics').expect(200);
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');

    const declared = new Map<string, string>();
    for (const line of response.text.trimEnd().split('\n')) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram)$/.exec(line);
      if (type) {
        expect(declared.has(type[1])).toBe(false);
        declared.set(type[1], type[2]);
        continue;
      }
      if (line.startsWith('# HELP ')) continue;
      const match = SAMPLE.exec(line);
      expect({ line, valid: match !== null }).toEqual({ line, valid: true });
      const family = match![1].replace(/_(bucket|sum|count)$/, '');
      expect({ line, declared: declared.has(match![1]) || declared.get(family) === 'histogram' }).toEqual({ line, declared: true });
    }
    expect([...declared.keys()]).toEqual(
      expect.arrayContaining([
        'spoc_http_requests_total',
        'spoc_http_request_duration_seconds',
        'spoc_event_store_head_position',
        'spoc_projection_checkpoint',
        'spoc_router_checkpoint',
        'spoc_router_failed',
        'process_resident_memory_bytes',
        'nodejs_heap_used_bytes',
      ]),
    );
    // No KAFKA_BROKERS here, so no relay and no relay series.
    expect(declared.has('spoc_kafka_relay_checkpoint')).toBe(false);
    expect(sample(response.text, 'process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('counts each request under its route pattern and status, with its duration', async () => {
    const health = 'spoc_http_requests_total{method="GET",route="/health",status="200"}';
    const before = sample(await scrape(), health) ?? 0;
    await app.http().get('/health').expect(200);
    await app.http().get('/health').expect(200);
    const missing = randomUUID();
    await app.http().get(`/v1/referrals/${missing}`).set(bearer(police)).expect(404);
    await app.http().get(`/v1/referrals/${missing}`).expect(401);
    await app.http().get(`/no-such-page/${missing}`).expect(404);

    const text = await scrape();
    expect(sample(text, health)).toBe(before + 2);
    expect(sample(text, 'spoc_http_requests_total{method="GET",route="/v1/referrals/:id",status="404"}')).toBe(1);
    expect(sample(text, 'spoc_http_requests_total{method="GET",route="/v1/referrals/:id",status="401"}')).toBe(1);
    expect(sample(text, 'spoc_http_requests_total{method="GET",route="unmatched",status="404"}')).toBe(1);
    expect(sample(text, 'spoc_http_request_duration_seconds_count{method="GET",route="/health"}')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'spoc_http_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"}')).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain(missing);
    expect(text).not.toContain('no-such-page');
  });

  it('never shows a referral id, a case id, a name, a reference or a token, after a referral is posted and routed', async () => {
    const reference = `MX-${randomUUID()}`;
    const body = validVictimReferral({
      agencyReference: reference,
      subject: { firstName: 'Quintessa', lastName: 'Metricsworth', phone: '07700 900777', postcode: 'PO9 9ZZ' },
      otherParty: { firstName: 'Barnabus', lastName: 'Scrapeley' },
      riskAssessment: validRiskAssessment({ answers: answers(15) }),
    });
    const { body: accepted } = await app.http().post('/v1/referrals').set(bearer(police)).send(body).expect(202);
    const { body: referral } = await app.http().get(`/v1/referrals/${accepted.referralId}?waitForRoutes=5000`).set(bearer(police)).expect(200);
    expect(referral.routes.length).toBeGreaterThan(0);
    await app.http().post('/v1/referrals').set(bearer(police)).send({ ...body, agencyReference: `${reference}-bad`, subject: { lastName: 'Invalidsworth' }, referralType: 'nonsense' }).expect(400);

    const text = await scrape();
    const secrets = [
      accepted.referralId,
      ...referral.routes.map((route: { caseId: string }) => route.caseId),
      reference,
      'Quintessa',
      'Metricsworth',
      'Barnabus',
      'Scrapeley',
      'Invalidsworth',
      '07700 900777',
      'PO9 9ZZ',
      police,
      ADMIN_TOKEN,
    ];
    for (const secret of secrets) expect({ secret, shown: text.includes(secret) }).toEqual({ secret, shown: false });
    expect(sample(text, 'spoc_http_requests_total{method="POST",route="/v1/referrals",status="202"}')).toBe(1);
    expect(sample(text, 'spoc_http_requests_total{method="POST",route="/v1/referrals",status="400"}')).toBe(1);
  });

  it('shows how far the log, the read models and the router have got', async () => {
    const text = await scrape();
    const head = sample(text, 'spoc_event_store_head_position')!;
    expect(head).toBeGreaterThan(0);
    expect(sample(text, 'spoc_projection_checkpoint{runner="api-read-models"}')).toBeLessThanOrEqual(head);
    expect(sample(text, 'spoc_projection_checkpoint{runner="api-read-models"}')).toBeGreaterThan(0);
    expect(sample(text, 'spoc_router_checkpoint')).toBeGreaterThan(0);
    expect(sample(text, 'spoc_router_failed')).toBe(0);
    expect(sample(text, 'spoc_projection_failed{runner="api-read-models"}')).toBe(0);
  });
});
