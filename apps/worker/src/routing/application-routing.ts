import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { PROXY_CONFIG_PORT, ProxyConfigPort, ProxyConfigWriteResult, TraefikFileAdapter } from '@wharf/orchestration';
import { applicationDomains, applicationFileKey, renderApplicationConfig, toTraefikYaml } from '@wharf/routing';

/**
 * ProxyConfigPort on Traefik's file provider in WHARF_TRAEFIK_DIR, created at first use: the file prefix is the
 * install id, which exists only once the instance is set up (a worker may start before that). Removing from a
 * directory that does not exist is "nothing removed", so applications without domains never touch the disk.
 */
@Injectable()
export class LazyTraefikFiles implements ProxyConfigPort {
  private adapter: Promise<TraefikFileAdapter> | null = null;
  constructor(private readonly ds: DataSource, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  private files(): Promise<TraefikFileAdapter> {
    this.adapter ??= (async () => {
      const [row]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
      if (!row) throw new Error('The instance is not set up yet (no install id)');
      return new TraefikFileAdapter({ directory: this.config.traefikDir, installId: row.install_id });
    })().catch((e) => {
      this.adapter = null;
      throw e;
    });
    return this.adapter;
  }
  async write(key: string, content: string): Promise<ProxyConfigWriteResult> {
    // The directory is made on the first write: an install without domains never needs it.
    const files = await this.files();
    await files.ensureDirectory();
    return files.write(key, content);
  }
  async remove(key: string): Promise<boolean> {
    return (await this.files()).remove(key);
  }
  async list(): Promise<string[]> {
    return (await this.files()).list();
  }
  async read(key: string): Promise<string | null> {
    return (await this.files()).read(key);
  }
}

export type RoutingApplyResult =
  | { kind: 'written'; routers: number; changed: boolean; skipped: string[] }
  | { kind: 'removed'; existed: boolean; skipped: string[] };

/**
 * Renders one application's domains into its Traefik file (one file per application, written only when its content
 * changes) or removes the file when it has none. The load balancer targets the Swarm service by its name, which is
 * its DNS name on the application's overlay network (with the vip endpoint or with dnsrr).
 */
@Injectable()
export class ApplicationRouting {
  constructor(private readonly ds: DataSource, @Inject(PROXY_CONFIG_PORT) private readonly files: ProxyConfigPort) {}

  async apply(applicationId: string, serviceName: string): Promise<RoutingApplyResult> {
    const { domains, skipped } = await applicationDomains(this.ds.manager, applicationId);
    const key = applicationFileKey(applicationId);
    if (domains.length === 0) return { kind: 'removed', existed: await this.files.remove(key), skipped };
    const [{ install_id: installId }]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    const config = renderApplicationConfig({ installId, applicationId, serviceName, domains });
    const { changed } = await this.files.write(key, toTraefikYaml(config));
    return { kind: 'written', routers: Object.keys(config.http.routers).length, changed, skipped };
  }

  /** Whether the application has a domain the routing step would render (so its service joins the edge network). */
  async isRouted(applicationId: string): Promise<boolean> {
    return (await applicationDomains(this.ds.manager, applicationId)).domains.length > 0;
  }

  /** Removes the application's file (deleted application, torn-down environment); false when there was none. */
  remove(applicationId: string): Promise<boolean> {
    return this.files.remove(applicationFileKey(applicationId));
  }
}
