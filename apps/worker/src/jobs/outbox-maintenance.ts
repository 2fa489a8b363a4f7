import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { JobHandler } from '@wharf/core';

/** Deletes outbox rows that were published more than 7 days ago. */
@Injectable()
export class OutboxMaintenance {
  constructor(private readonly ds: DataSource) {}

  @JobHandler('outbox.purge-published')
  async purgePublished(): Promise<{ deleted: number }> {
    const r = await this.ds.query(`DELETE FROM outbox_events WHERE published_at < now() - interval '7 days'`);
    return { deleted: Number(r[1] ?? 0) };
  }
}
