import { Inject, Injectable } from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, type RoutingPolicy } from '@spoc/domain';
import { APP_CONFIG, type AppConfig } from '../config';
import { POLICY } from '../infrastructure/tokens';

/**
 * Every policy version on file, by id: the running one and the documents beside it (policies/ by default), so an
 * audit can re-run a decision under the version that made it. A version is immutable once used; a document that
 * does not parse is skipped (the re-evaluation then says the version was not found).
 */
@Injectable()
export class PolicyLibrary {
  private readonly directory: string;
  private known = new Map<string, RoutingPolicy>();

  constructor(@Inject(POLICY) private readonly running: RoutingPolicy, @Inject(APP_CONFIG) config: AppConfig) {
    this.directory = path.dirname(config.policyFile);
  }

  find(id: string): RoutingPolicy | null {
    if (id === this.running.id) return this.running;
    // A version added since the last look is picked up: the directory is read again only on a miss.
    if (!this.known.has(id)) this.known = this.scan();
    return this.known.get(id) ?? null;
  }

  private scan(): Map<string, RoutingPolicy> {
    const found = new Map<string, RoutingPolicy>();
    let files: string[] = [];
    try {
      files = readdirSync(this.directory).filter((file) => file.endsWith('.json')).sort();
    } catch {
      return found;
    }
    for (const file of files) {
      try {
        const policy = parsePolicy(JSON.parse(readFileSync(path.join(this.directory, file), 'utf8')));
        if (!found.has(policy.id)) found.set(policy.id, policy);
      } catch {
        // not a policy document this version of the code can read
      }
    }
    return found;
  }
}
