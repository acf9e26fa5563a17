import { Inject, Injectable } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { KafkaRelay } from '@spoc/kafka-relay';
import type { ProjectionRunner } from '@spoc/platform';
import type { Router } from '../../../router/src/router';
import { KAFKA_RELAY, PROJECTIONS, ROUTER } from '../infrastructure/tokens';
import { MetricsRegistry, type GaugeSample } from './metrics-registry';

/** Seconds; intake answers in milliseconds, a slow read or a wait for routes in seconds. */
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A request that matched no route: its URL is whatever the client sent, so it never becomes a label. */
export const UNMATCHED_ROUTE = 'unmatched';

/** 0 stands for "nothing yet": log positions start at 1. */
const position = (value: bigint | null | undefined) => Number(value ?? 0n);
const flag = (value: unknown) => (value ? 1 : 0);
const one = (value: number): GaugeSample[] => [{ value }];

/**
 * What /metrics shows. Labels are only ever route patterns, methods, status codes and runner names: never a URL,
 * an id or anything from a body, so no referral, case or person can be read or counted from the output.
 */
@Injectable()
export class ApiMetrics {
  private readonly registry = new MetricsRegistry();
  private readonly requests = this.registry.counter('spoc_http_requests_total', 'HTTP requests answered, by route pattern and status.', ['method', 'route', 'status']);
  private readonly durations = this.registry.histogram('spoc_http_request_duration_seconds', 'Time from request to response, by route pattern.', ['method', 'route'], DURATION_BUCKETS);

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(PROJECTIONS) projections: ProjectionRunner,
    @Inject(ROUTER) router: Router | null,
    @Inject(KAFKA_RELAY) relay: KafkaRelay | null,
  ) {
    const { registry } = this;
    // A store that does not answer leaves the series out (absent, not 0); /health says why.
    registry.gauge('spoc_event_store_head_position', 'The last position in the event log.', () =>
      store.headPosition().then((head) => one(position(head)), () => []),
    );
    registry.gauge('spoc_projection_checkpoint', 'The last log position applied to the read models.', () => [{ labels: { runner: projections.name }, value: position(projections.checkpoint) }]);
    registry.gauge('spoc_projection_failed', '1 when the read models stopped on an event.', () => [{ labels: { runner: projections.name }, value: flag(projections.failed) }]);
    // The router and the relay report only where they run: in this process in the embedded mode.
    registry.gauge('spoc_router_checkpoint', 'The last log position the router handled.', () => (router ? one(position(router.checkpoint)) : []));
    registry.gauge('spoc_router_failed', '1 when the router stopped on an event.', () => (router ? one(flag(router.failed)) : []));
    registry.gauge('spoc_router_retrying', 'Failed attempts in a row on the event in hand (the store or the router\'s own file refused); 0 when all is well.', () => (router ? one(router.retrying) : []));
    registry.gauge('spoc_router_referrals_flagged_total', 'Referrals flagged for routing by hand since the process started (the router could not decide them).', () => (router ? one(router.referralsFailed) : []));
    registry.gauge('spoc_kafka_relay_checkpoint', 'The last log position the Kafka broker acknowledged.', () => (relay ? one(position(relay.checkpoint)) : []));
    registry.gauge('spoc_kafka_relay_retrying', 'Failed attempts in a row to reach the Kafka broker (0 while it answers).', () => (relay ? one(relay.retrying) : []));
    registry.gauge('spoc_kafka_relay_failed', '1 when the Kafka relay stopped on an event it cannot map.', () => (relay ? one(flag(relay.failed)) : []));
    registry.gauge('process_resident_memory_bytes', 'Resident memory size in bytes.', () => one(process.memoryUsage.rss()));
    registry.gauge('nodejs_heap_used_bytes', 'V8 heap in use, in bytes.', () => one(process.memoryUsage().heapUsed));
    registry.gauge('nodejs_heap_total_bytes', 'V8 heap allocated, in bytes.', () => one(process.memoryUsage().heapTotal));
  }

  /** On the hot path: two map lookups and a few additions. `route` is the route pattern, never the URL. */
  recordRequest(method: string, route: string | undefined, status: number, seconds: number): void {
    const pattern = route ?? UNMATCHED_ROUTE;
    this.requests.inc([method, pattern, String(status)]);
    this.durations.observe([method, pattern], seconds);
  }

  render(): Promise<string> {
    return this.registry.render();
  }
}
