import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { parsePolicy } from '@spoc/domain';
import { EVENT_STORE, type EventStore } from '@spoc/event-store';
import { EventCodec, openReadModelDb, PersonalDataVault } from '@spoc/platform';
import { APP_CONFIG, openEventStore, openVaultFor, type AppConfig } from '../config';
import { systemClock, type Clock } from './clock';
import { CLOCK, CODEC, POLICY, READ_DB, VAULT } from './tokens';

/**
 * The one place that chooses engines: the embedded SQLite store unless EVENTSTORE_CONNECTION_STRING is set.
 * Read models live under SPOC_DATA_DIR (each API instance keeps its own), subject keys under SPOC_KEYS_DIR.
 */
@Global()
@Module({})
export class InfrastructureModule implements OnApplicationShutdown {
  static forRoot(config: AppConfig, clock: Clock = systemClock) {
    mkdirSync(config.dataDir, { recursive: true });
    mkdirSync(config.keysDir, { recursive: true });
    return {
      module: InfrastructureModule,
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: clock },
        {
          provide: EVENT_STORE,
          useFactory: (): EventStore => openEventStore(config),
        },
        {
          provide: VAULT,
          useFactory: async (store: EventStore) => {
            try {
              return await openVaultFor(config, store);
            } catch (error) {
              await store.close(); // a refused start leaves nothing open (the read models wait for the vault)
              throw error;
            }
          },
          inject: [EVENT_STORE],
        },
        { provide: CODEC, useFactory: (vault: PersonalDataVault) => new EventCodec(vault), inject: [VAULT] },
        // Opened once the keys are known to be there, so that a start refused for them leaves no lock behind.
        { provide: READ_DB, useFactory: () => openReadModelDb(path.join(config.dataDir, 'read-models.sqlite')), inject: [VAULT] },
        { provide: POLICY, useFactory: () => parsePolicy(JSON.parse(readFileSync(config.policyFile, 'utf8'))) },
      ],
      exports: [APP_CONFIG, CLOCK, EVENT_STORE, VAULT, CODEC, READ_DB, POLICY],
    };
  }

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(VAULT) private readonly vault: PersonalDataVault,
    @Inject(READ_DB) private readonly db: Database.Database,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
    this.vault.close();
    this.db.close();
  }
}
