import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { PrincipalEvent } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import type { Projection } from '@spoc/platform';
import type { Principal } from '../shared/auth/principal';

/** Who may call, by token hash. A revoked principal's row stays, marked, so its token is refused at once. */
@Injectable()
export class PrincipalsProjection implements Projection {
  readonly name = 'principals';
  readonly readYourWrites = true;
  readonly version = 1;
  readonly eventTypes = ['PrincipalRegistered', 'PrincipalRevoked'];
  readonly tables = {
    principals: `CREATE TABLE IF NOT EXISTS principals (
      principal_id TEXT PRIMARY KEY, role TEXT NOT NULL, name TEXT NOT NULL, agency TEXT, provision TEXT,
      token_hash TEXT NOT NULL UNIQUE, registered_at TEXT NOT NULL, revoked_at TEXT
    )`,
  };
  private statements!: {
    insert: Database.Statement;
    revoke: Database.Statement;
    byToken: Database.Statement<[string], { principal_id: string; role: Principal['role']; agency: string | null; provision: string | null }>;
    count: Database.Statement<[], { n: number }>;
  };

  /** Token lookups on every request; cleared whenever a principal changes, so a revocation applies at once. */
  private readonly cache = new Map<string, Principal | null>();

  prepare(db: Database.Database): void {
    this.statements = {
      insert: db.prepare(
        `INSERT OR REPLACE INTO principals (principal_id, role, name, agency, provision, token_hash, registered_at)
         VALUES (@principalId, @role, @name, @agency, @provision, @tokenHash, @registeredAt)`,
      ),
      revoke: db.prepare('UPDATE principals SET revoked_at = ? WHERE principal_id = ?'),
      byToken: db.prepare('SELECT principal_id, role, agency, provision FROM principals WHERE token_hash = ? AND revoked_at IS NULL'),
      count: db.prepare('SELECT count(*) AS n FROM principals WHERE revoked_at IS NULL'),
    };
  }

  apply(event: RecordedEvent): void {
    const domain = { type: event.type, data: event.data } as PrincipalEvent;
    this.cache.clear();
    switch (domain.type) {
      case 'PrincipalRegistered':
        this.statements.insert.run(domain.data);
        break;
      case 'PrincipalRevoked':
        this.statements.revoke.run(domain.data.revokedAt, domain.data.principalId);
        break;
    }
  }

  byTokenHash(tokenHash: string): Principal | null {
    const cached = this.cache.get(tokenHash);
    if (cached !== undefined) return cached;
    const row = this.statements.byToken.get(tokenHash);
    const principal = row ? { id: row.principal_id, role: row.role, agency: row.agency, provision: row.provision } : null;
    // Unknown tokens are not cached: a flood of random tokens must not grow memory.
    if (principal) this.cache.set(tokenHash, principal);
    return principal;
  }

  activeCount(): number {
    return this.statements.count.get()!.n;
  }
}
