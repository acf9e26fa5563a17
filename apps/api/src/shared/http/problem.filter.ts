import { Catch, HttpException, HttpStatus, Logger, NotFoundException, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import { DomainError } from '@spoc/domain';
import { EventStoreError } from '@spoc/event-store';
import type { FieldProblem } from '../validation';

/** A 400 that lists every field problem. */
export class ValidationFailed extends HttpException {
  constructor(readonly details: FieldProblem[]) {
    super('the request is not valid', HttpStatus.BAD_REQUEST);
  }
}

export interface ProblemBody {
  statusCode: number;
  error: string;
  message: string;
  details?: FieldProblem[];
}

const DOMAIN_STATUS: Record<DomainError['code'], number> = {
  'invalid-transition': 409,
  conflict: 409,
  'not-found': 404,
  'not-allowed': 403,
  invalid: 400,
};

/**
 * The one error shape of the contract. Messages are our own fixed texts: a library's message can quote the
 * body (Node's JSON errors do), so none is passed through, and no stack trace leaves the process.
 */
export function toProblem(error: unknown): ProblemBody {
  if (error instanceof ValidationFailed) return problem(400, 'the request is not valid', error.details);
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const message = typeof response === 'string' ? response : String((response as { message?: unknown }).message ?? error.message);
    return problem(error.getStatus(), Array.isArray(message) ? message.join('; ') : message);
  }
  if (error instanceof DomainError && error.code === 'invalid') return problem(400, 'the request is not valid', [{ field: error.field ?? '', problem: error.message }]);
  if (error instanceof DomainError) return problem(DOMAIN_STATUS[error.code], error.message);
  if (error instanceof EventStoreError && error.code === 'wrong-expected-version') {
    return problem(409, 'the record changed while this request was handled: retry');
  }
  const fastify = error as { statusCode?: number; code?: string };
  if (fastify.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || fastify.statusCode === 413) return problem(413, 'the body is larger than 256 KiB');
  if (fastify.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fastify.statusCode === 415) return problem(415, 'the body must be application/json');
  if (fastify.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return problem(400, 'the body is empty', [{ field: '', problem: 'is required' }]);
  if (fastify.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error instanceof SyntaxError) {
    return problem(400, 'the body is not valid JSON', [{ field: '', problem: 'must be valid JSON' }]);
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return problem(fastify.statusCode, STATUS_CODES[fastify.statusCode] ?? 'client error');
  }
  return problem(500, 'something went wrong; it has been logged without its data');
}

function problem(statusCode: number, message: string, details?: FieldProblem[]): ProblemBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message, ...(details ? { details } : {}) };
}

const logger = new Logger('Errors');

/** Logs a server-side failure by kind and correlation id only: an error's message may hold personal data. */
export function logFailure(error: unknown, correlationId: string | undefined): void {
  const name = error instanceof Error ? error.name : typeof error;
  const where = error instanceof Error ? (error.stack ?? '').split('\n').slice(1, 4).join(' | ') : '';
  logger.error(`unhandled ${name} (correlation ${correlationId ?? 'none'}) at ${where.trim()}`);
}

@Catch()
export class ProblemFilter implements ExceptionFilter {
  catch(error: unknown, host: ArgumentsHost): void {
    const context = host.switchToHttp();
    const reply = context.getResponse<{ status(code: number): { send(body: unknown): void }; header(k: string, v: string): unknown }>();
    const request = context.getRequest<{ correlationId?: string; is404?: boolean }>();
    // Nest's answer to a URL that matches no route quotes the URL, and a query string can carry a name.
    const body = request.is404 && error instanceof NotFoundException ? problem(404, 'no such route') : toProblem(error);
    if (body.statusCode >= 500) logFailure(error, request.correlationId);
    reply.status(body.statusCode).send(body);
  }
}
