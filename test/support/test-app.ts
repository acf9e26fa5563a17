import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createApp } from '../../apps/api/src/app';
import { loadConfig } from '../../apps/api/src/config';

export const ADMIN_TOKEN = 'e2e-bootstrap-admin-token-000000';

/** The real app on a temporary data directory, served over a real socket for supertest. */
export class TestApp {
  private constructor(
    readonly app: NestFastifyApplication,
    readonly dataDir: string,
  ) {}

  static async start(dataDir = mkdtempSync(path.join(tmpdir(), 'spoc-e2e-')), env: Record<string, string> = {}): Promise<TestApp> {
    const config = loadConfig({ SPOC_DATA_DIR: dataDir, SPOC_BOOTSTRAP_ADMIN_TOKEN: ADMIN_TOKEN, PORT: '0', ...env });
    const app = await createApp(config, { logger: false });
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
    return new TestApp(app, dataDir);
  }

  http() {
    return request(this.app.getHttpServer());
  }

  async createPrincipal(body: Record<string, unknown>): Promise<{ id: string; token: string }> {
    const response = await this.http().post('/v1/admin/principals').set('Authorization', `Bearer ${ADMIN_TOKEN}`).send(body);
    if (response.status !== 201) throw new Error(`could not create principal: ${response.status} ${JSON.stringify(response.body)}`);
    return response.body as { id: string; token: string };
  }

  async close(options: { keepData?: boolean } = {}): Promise<void> {
    await this.app.close();
    if (!options.keepData) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });
