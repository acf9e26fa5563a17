import type { Provider } from '@nestjs/common';
import type Database from 'better-sqlite3';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { ProjectionRunner, type EventCodec, type Projection } from '@spoc/platform';
import { AccessLogProjection } from '../audit/access-log.projection';
import { EncompassProjection } from '../encompass/encompass.projection';
import { MaracProjection } from '../marac/marac.projection';
import { QueueProjection } from '../queues/queue.projection';
import { PrincipalsProjection } from '../principals/principals.projection';
import { ReferralStatusProjection } from '../referrals/referral-status.projection';
import { PerformanceProjection } from '../reports/performance.projection';
import { CODEC, PROJECTIONS, READ_DB } from './tokens';

/** Every read model this API keeps, fed by one runner from one checkpoint. */
export const READ_MODELS = [PrincipalsProjection, ReferralStatusProjection, MaracProjection, EncompassProjection, QueueProjection, AccessLogProjection, PerformanceProjection];

export const projectionsProvider: Provider = {
  provide: PROJECTIONS,
  inject: [EVENT_STORE, READ_DB, CODEC, ...READ_MODELS],
  useFactory: (store: EventStore, db: Database.Database, codec: EventCodec, ...projections: Projection[]) =>
    new ProjectionRunner('api-read-models', store, db, codec, projections),
};
