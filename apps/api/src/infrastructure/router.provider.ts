import type { Provider } from '@nestjs/common';
import path from 'node:path';
import type { RoutingPolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { LogAnchors, openReadModelDb, type EventCodec, type PersonalDataVault } from '@spoc/platform';
import { Router } from '../../../router/src/router';
import { APP_CONFIG, logAnchorsFile, type AppConfig } from '../config';
import type { Clock } from './clock';
import { CLOCK, CODEC, POLICY, ROUTER, VAULT } from './tokens';

/** In the embedded mode the router runs in the API's process, on its own state file; otherwise it is absent. */
export const routerProvider: Provider = {
  provide: ROUTER,
  inject: [APP_CONFIG, EVENT_STORE, CODEC, VAULT, POLICY, CLOCK],
  useFactory: (config: AppConfig, store: EventStore, codec: EventCodec, vault: PersonalDataVault, policy: RoutingPolicy, clock: Clock) =>
    config.runRouter
      ? new Router(store, codec, vault, policy, openReadModelDb(path.join(config.dataDir, 'router-state.sqlite')), clock, new LogAnchors(logAnchorsFile(config)))
      : null,
};
