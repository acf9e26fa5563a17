import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { ReferralRouted } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import { RowTable, type Projection } from '@spoc/platform';

export type EncompassRow = {
  notification_id: string;
  referral_id: string;
  child_index: number;
  due_by: string;
  status: 'due' | 'sent';
  sent_at: string | null;
  /** The decision's sealed schools (child index → school), opened on read. */
  schools: string;
};

/** Operation Encompass notifications, one per school-age child, due before the next school day starts. */
@Injectable()
export class EncompassProjection implements Projection {
  readonly name = 'encompass';
  readonly version = 1;
  readonly eventTypes = ['ReferralRouted', 'EncompassNotificationSent'];
  readonly tables = {
    encompass_notifications: `CREATE TABLE IF NOT EXISTS encompass_notifications (
      notification_id TEXT PRIMARY KEY, referral_id TEXT NOT NULL, child_index INTEGER NOT NULL, due_by TEXT NOT NULL,
      status TEXT NOT NULL, sent_at TEXT, schools TEXT NOT NULL
    ) WITHOUT ROWID`,
  };
  private notifications!: RowTable<EncompassRow>;
  private statements!: {
    byId: Database.Statement<[string], EncompassRow>;
    page: Database.Statement<[Record<string, string | number | null>], EncompassRow>;
  };

  readonly indexes = ['CREATE INDEX IF NOT EXISTS encompass_status_due ON encompass_notifications (status, due_by)'];

  prepare(db: Database.Database): void {
    this.notifications = new RowTable(db, 'encompass_notifications', ['notification_id'], ['notification_id', 'referral_id', 'child_index', 'due_by', 'status', 'sent_at', 'schools']);
    this.statements = {
      byId: db.prepare('SELECT * FROM encompass_notifications WHERE notification_id = ?'),
      // After the last one shown (due by, then id): one marked sent meanwhile pushes no other past the next page.
      page: db.prepare(
        `SELECT * FROM encompass_notifications WHERE status IN (@status, @orStatus)
           AND (@dueBy IS NULL OR due_by > @dueBy OR (due_by = @dueBy AND notification_id > @notificationId))
         ORDER BY due_by, notification_id LIMIT @limit`,
      ),
    };
  }

  apply(event: RecordedEvent): void {
    if (event.type === 'EncompassNotificationSent') {
      const { notificationId, sentAt } = event.data as { notificationId: string; sentAt: string };
      const row = this.notifications.get(notificationId);
      if (row) this.notifications.put({ ...row, status: 'sent', sent_at: sentAt });
      return;
    }
    const decision = event.data as unknown as ReferralRouted['data'];
    const sealedSchools = JSON.stringify(decision.schools);
    for (const { notificationId, childIndex, dueBy } of decision.encompass) {
      if (this.notifications.get(notificationId)) continue;
      this.notifications.put({ notification_id: notificationId, referral_id: decision.referralId, child_index: childIndex, due_by: dueBy, status: 'due', sent_at: null, schools: sealedSchools });
    }
  }

  find(notificationId: string): EncompassRow | null {
    return this.statements.byId.get(notificationId) ?? null;
  }

  list(statuses: Array<'due' | 'sent'>, limit: number, after: [string, string] | null): EncompassRow[] {
    return this.statements.page.all({ status: statuses[0], orStatus: statuses[1] ?? statuses[0], dueBy: after?.[0] ?? null, notificationId: after?.[1] ?? null, limit });
  }
}
