import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppModule } from './app.module';
import type { AppConfig } from './config';
import type { Clock } from './infrastructure/clock';
import { ApiMetrics } from './metrics/api-metrics';
import { AccessLog } from './audit/access-log';
import { installAccessLog } from './audit/access-log.hook';

const BODY_LIMIT = 256 * 1024;
export const REQUEST_TIMEOUT_MS = 30_000;
const IDLE_TIMEOUT_MS = 60_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Builds the API (not listening yet): the same app for `npm start` and for the end-to-end tests. */
/** `clock` is for the demo-data generator, which replays a simulated year; everything else runs on the system clock. */
export async function createApp(config: AppConfig, options: { logger?: boolean; clock?: Clock } = {}): Promise<NestFastifyApplication> {
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT,
    logger: false,
    trustProxy: false,
    // Fastify turns Node's timeouts off: a client that sends its headers and then a byte a minute (before any token is
    // checked) would hold its connection and up to 256 KiB for ever. A whole request gets 30 s to arrive, and a
    // socket idle for 60 s is closed (the longest wait the API itself makes, waitForRoutes, is 5 s).
    requestTimeout: REQUEST_TIMEOUT_MS,
    connectionTimeout: IDLE_TIMEOUT_MS,
    // Fastify answers a URL it cannot route (a broken percent escape, an over-long path parameter) by itself, quoting
    // the whole URL, query included, which may carry personal data: answered here in the API's own words instead.
    // They come before every hook, so this answer sets its own correlation id.
    frameworkErrors: (error: { code?: string }, _request: FastifyRequest, reply: FastifyReply) => {
      const tooLong = error.code === 'FST_ERR_MAX_PARAM_LENGTH';
      void reply.header('x-correlation-id', randomUUID());
      void reply.code(tooLong ? 414 : 400).send(
        tooLong
          ? { statusCode: 414, error: 'URI Too Long', message: 'a part of the path is too long' }
          : { statusCode: 400, error: 'Bad Request', message: 'the URL is not valid', details: [{ field: 'url', problem: 'must be a valid URL (a broken percent escape?)' }] },
      );
    },
  });
  const fastify = adapter.getInstance();
  // Only JSON bodies: anything else (text/plain included) is a 415, not a string to validate.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onRequest', (request, reply, done) => {
    const header = request.headers['x-correlation-id'];
    const correlationId = typeof header === 'string' && UUID.test(header) ? header : randomUUID();
    (request as unknown as { correlationId: string }).correlationId = correlationId;
    void reply.header('x-correlation-id', correlationId);
    done();
  });
  const app = await NestFactory.create<NestFastifyApplication>(AppModule.forRoot(config, options.clock), adapter, {
    logger: options.logger === false ? false : ['error', 'warn', 'log'],
    bodyParser: false,
    // A start that fails (a key file not where it should be) throws to the caller, which says why in its own words.
    abortOnError: false,
  });
  // Counted here rather than in an interceptor so that 404s, refused bodies and guard refusals count too.
  // The label is the route pattern (`/v1/referrals/:id`), never the URL, which can carry ids.
  const metrics = app.get(ApiMetrics);
  // Each route's hook knows its pattern (asking a request for its route options builds them anew each time);
  // answers that matched no route are counted by the one global hook.
  fastify.addHook('onRoute', (route) => {
    const url = route.url;
    const hook = (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      metrics.recordRequest(request.method, url, reply.statusCode, reply.elapsedTime / 1000);
      done();
    };
    route.onResponse = [...[route.onResponse ?? []].flat(), hook];
  });
  fastify.addHook('onResponse', (request, reply, done) => {
    if (request.is404) metrics.recordRequest(request.method, undefined, reply.statusCode, reply.elapsedTime / 1000);
    done();
  });
  if (config.recordAccess !== false) installAccessLog(fastify, app.get(AccessLog));
  fastify.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, text, done) => {
    try {
      done(null, (text as string).length === 0 ? undefined : JSON.parse(text as string));
    } catch {
      done(Object.assign(new Error('invalid JSON'), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_JSON_BODY' }), undefined);
    }
  });
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('SPOC referral router')
      .setDescription('The single point of contact for domestic violence and abuse referrals (HTTP API v1).')
      .setVersion('1')
      .addBearerAuth()
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  Logger.flush();
  return app;
}
