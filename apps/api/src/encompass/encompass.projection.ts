import { Injectable } from '@nestjs/common';
import type Database from 'better-sqlite3';
import type { ReferralRouted } from '@spoc/domain';
import type { RecordedEvent } from '@spoc/event-store';
import type { Projection } from '@spoc/platform';

export interface EncompassRow {
  notification_id: string;
  referral_id: string;
  child_index: number;
  due_by: string;
  status: 'due' | 'sent';
  sent_at: string | null;
  /** The decision's sealed schools (child index → school), opened on read. */
  schools: string;
}

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
  private statements!: {
    issue: Database.Statement;
    sent: Database.Statement;
    byId: Database.Statement<[string], EncompassRow>;
    page: Database.Statement<[Record<string, string | number | null>], EncompassRow>;
  };

  readonly indexes = ['CREATE INDEX IF NOT EXISTS encompass_status_due ON encompass_notifications (status, due_by)'];

  prepare(db: Database.Database): void {
    this.statements = {
      issue: db.prepare(
        `INSERT OR IGNORE INTO encompass_notifications (notification_id, referral_id, child_index, due_by, status, schools)
         VALUES (?, ?, ?, ?, 'due', ?)`,
      ),
      sent: db.prepare("UPDATE encompass_notifications SET status = 'sent', sent_at = ? WHERE notification_id = ?"),
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
      this.statements.sent.run(sentAt, notificationId);
      return;
    }
    const decision = event.data as unknown as ReferralRouted['data'];
    const sealedSchools = JSON.stringify(decision.schools);
    for (const notification of decision.encompass) {
      this.statements.issue.run(notification.notificationId, decision.referralId, notification.childIndex, notification.dueBy, sealedSchools);
    }
  }

  find(notificationId: string): EncompassRow | null {
    return this.statements.byId.get(notificationId) ?? null;
  }

  list(statuses: Array<'due' | 'sent'>, limit: number, after: [string, string] | null): EncompassRow[] {
    return this.statements.page.all({ status: statuses[0], orStatus: statuses[1] ?? statuses[0], dueBy: after?.[0] ?? null, notificationId: after?.[1] ?? null, limit });
  }
}
