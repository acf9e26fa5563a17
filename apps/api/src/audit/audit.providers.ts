import type { Provider } from '@nestjs/common';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import type { EventCodec } from '@spoc/platform';
import { CODEC } from '../infrastructure/tokens';
import { accessLogProvider } from './access-log';
import { QueueProjection } from '../queues/queue.projection';
import { PolicyLibrary } from './policy-library';
import { ReferralHistory } from './referral-history';

/** The audit feature's services; its read models are listed in READ_MODELS. */
export const AUDIT_PROVIDERS: Provider[] = [
  accessLogProvider,
  PolicyLibrary,
  {
    provide: ReferralHistory,
    inject: [EVENT_STORE, CODEC, QueueProjection],
    useFactory: (store: EventStore, codec: EventCodec, cases: QueueProjection) => new ReferralHistory(store, codec, cases),
  },
];
