import { readFileSync } from 'node:fs';
import path from 'node:path';
import { TestApp } from './support/test-app';

/** Every route of ../shared/contract/http-api.md, read from the contract itself so the two cannot drift. */
function contractRoutes(): string[] {
  const contract = readFileSync(path.resolve(__dirname, '../../shared/contract/http-api.md'), 'utf8');
  const routes = new Set<string>();
  for (const match of contract.matchAll(/`(GET|POST|DELETE|PUT|PATCH) (\/[^ `?]+)/g)) routes.add(`${match[1]} ${match[2]}`);
  // The case actions are a table of POST routes.
  for (const match of contract.matchAll(/^\| `(\/v1\/cases\/[^`]+)`/gm)) routes.add(`POST ${match[1]}`);
  return [...routes].map((route) => route.replace(/:(\w+)/g, '{$1}')).sort();
}

describe('the published API document', () => {
  let app: TestApp;
  let document: { paths: Record<string, Record<string, unknown>> };

  beforeAll(async () => {
    app = await TestApp.start();
    document = (await app.http().get('/docs-json').expect(200)).body;
  });
  afterAll(() => app.close());

  it('is served at /docs-json with a browsable page at /docs', async () => {
    await app.http().get('/docs').expect(200);
    expect(document).toMatchObject({ openapi: expect.stringMatching(/^3\./), info: { title: 'SPOC referral router' } });
  });

  it('lists every route of the contract', () => {
    const published = new Set(
      Object.entries(document.paths).flatMap(([route, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${route}`)),
    );
    const contract = contractRoutes();
    expect(contract.length).toBeGreaterThan(20);
    for (const route of contract) {
      expect({ route, published: published.has(route) }).toEqual({ route, published: true });
    }
  });

  it('describes every request body, so clients can generate their types from it', () => {
    const withBodies = ['/v1/referrals', '/v1/referrals/{id}/reassessments', '/v1/admin/principals', ...['contact-attempts', 'decline', 'transfer', 'close'].map((action) => `/v1/cases/{caseId}/${action}`)];
    for (const route of withBodies) {
      const post = (document.paths[route] as { post: { requestBody?: { content?: Record<string, { schema?: { $ref?: string } }> } } }).post;
      expect({ route, schema: post.requestBody?.content?.['application/json']?.schema?.$ref }).toEqual({ route, schema: expect.stringMatching(/^#\/components\/schemas\//) });
    }
    const close = (document as unknown as { components: { schemas: Record<string, { properties: Record<string, { enum?: string[] }> }> } }).components.schemas.CloseCaseDto;
    expect(close.properties.outcome.enum).toEqual(expect.arrayContaining(['engaged-risk-reduced', 'moved-away', 'other']));
  });
});
