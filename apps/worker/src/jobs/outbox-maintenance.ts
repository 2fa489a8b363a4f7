import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobHandler } from '@wharf/core';

/** Retention of rows that only grow: published outbox events, webhook deliveries. */
@Injectable()
export class OutboxMaintenance {
  constructor(private readonly ds: DataSource) {}

  @JobHandler('outbox.purge-published')
  async purgePublished(): Promise<{ deleted: number }> {
    const r = await this.ds.query(`DELETE FROM outbox_events WHERE published_at < now() - interval '7 days'`);
    return { deleted: Number(r[1] ?? 0) };
  }

  /**
   * Webhook deliveries are kept 30 days (rejected ones, which anyone can send, 7 days) and at most the newest
   * {@link DELIVERIES_KEPT_PER_APPLICATION} per application; a Git provider connection's deliveries likewise per
   * connection. Duplicate detection needs only the recent ones: a replay
   * older than that is refused by the signature's replay window or is an ordinary duplicate of a long-gone push.
   */
  @JobHandler('webhooks.purge-deliveries')
  async purgeDeliveries(): Promise<{ deleted: number }> {
    const old = await this.ds.query(
      `DELETE FROM webhook_deliveries WHERE received_at < now() - interval '30 days' OR (outcome = 'rejected' AND received_at < now() - interval '7 days')`,
    );
    const surplus = await this.ds.query(
      `DELETE FROM webhook_deliveries w USING (
         SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY application_id ORDER BY received_at DESC, id DESC) AS n FROM webhook_deliveries) ranked
         WHERE ranked.n > $1
       ) extra WHERE w.id = extra.id`,
      [DELIVERIES_KEPT_PER_APPLICATION],
    );
    const oldOfConnections = await this.ds.query(
      `DELETE FROM git_provider_deliveries WHERE received_at < now() - interval '30 days' OR (outcome = 'rejected' AND received_at < now() - interval '7 days')`,
    );
    const surplusOfConnections = await this.ds.query(
      `DELETE FROM git_provider_deliveries w USING (
         SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY git_provider_id ORDER BY received_at DESC, id DESC) AS n FROM git_provider_deliveries) ranked
         WHERE ranked.n > $1
       ) extra WHERE w.id = extra.id`,
      [DELIVERIES_KEPT_PER_APPLICATION],
    );
    return { deleted: [old, surplus, oldOfConnections, surplusOfConnections].reduce((n, r) => n + Number(r[1] ?? 0), 0) };
  }
}

export const DELIVERIES_KEPT_PER_APPLICATION = 1000;
