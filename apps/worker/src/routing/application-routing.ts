import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { SecretBox, WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { PROXY_CONFIG_PORT, ProxyConfigPort, ProxyConfigWriteResult, TraefikFileAdapter } from '@wharf/orchestration';
import { applicationDomains, applicationFileKey, CertificateEntity, certificateKeyAad, renderApplicationConfig, TlsCertificateFile, toTraefikYaml } from '@wharf/routing';
import { TRAEFIK_DYNAMIC_DIR } from '../edge/traefik-service-spec';

/**
 * Certificates handed to Traefik as PEM files in `<WHARF_TRAEFIK_DIR>/certs` (the file provider reads only .yml/.toml
 * files, so these are never parsed as configuration), mounted with the directory at {@link TRAEFIK_DYNAMIC_DIR}. A
 * file name carries the application, the certificate and its serial: a renewal is a new name, so the application's
 * YAML changes with it and Traefik reloads. Keys are written 0600 (Traefik needs them in clear); stale files of the
 * application are removed.
 */
export class CertificateFiles {
  constructor(private readonly traefikDir: string) {}
  private get dir() {
    return join(this.traefikDir, 'certs');
  }

  sync(applicationId: string, certs: Array<{ id: string; serial: string; chainPem: string; keyPem: string }>): Promise<TlsCertificateFile[]> {
    return this.syncPrefix(`app-${applicationId}-`, certs);
  }

  /** The files whose names start with `prefix` become exactly `certs` (Wharf's own host uses `instance-`). */
  async syncPrefix(prefix: string, certs: Array<{ id: string; serial: string; chainPem: string; keyPem: string }>): Promise<TlsCertificateFile[]> {
    const wanted = new Map<string, string>();
    for (const c of certs) {
      const stem = `${prefix}${c.id}-${c.serial.replace(/[^0-9A-Fa-f]/g, '').slice(0, 16).toLowerCase()}`;
      wanted.set(`${stem}.crt`, c.chainPem);
      wanted.set(`${stem}.key`, c.keyPem);
    }
    if (wanted.size > 0) await fs.mkdir(this.dir, { recursive: true, mode: 0o700 });
    for (const [name, content] of wanted) {
      const path = join(this.dir, name);
      const current = await fs.readFile(path, 'utf8').catch(() => null);
      if (current === content) continue;
      const tmp = join(this.dir, `.${name}.${randomBytes(6).toString('hex')}.tmp`);
      await fs.writeFile(tmp, content, { mode: 0o600 });
      await fs.rename(tmp, path);
    }
    const present = await fs.readdir(this.dir).catch(() => [] as string[]);
    for (const f of present) if (f.startsWith(prefix) && !wanted.has(f)) await fs.rm(join(this.dir, f), { force: true });
    return [...wanted.keys()].filter((n) => n.endsWith('.crt')).map((n) => ({ certFile: `${TRAEFIK_DYNAMIC_DIR}/certs/${n}`, keyFile: `${TRAEFIK_DYNAMIC_DIR}/certs/${n.replace(/\.crt$/, '.key')}` }));
  }
}

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
  private readonly certFiles: CertificateFiles;
  constructor(
    private readonly ds: DataSource,
    @Inject(PROXY_CONFIG_PORT) private readonly files: ProxyConfigPort,
    private readonly box: SecretBox,
    @Inject(WHARF_CONFIG) config: WharfConfig,
  ) {
    this.certFiles = new CertificateFiles(config.traefikDir);
  }

  async apply(applicationId: string, serviceName: string): Promise<RoutingApplyResult> {
    const { domains, skipped } = await applicationDomains(this.ds.manager, applicationId);
    const key = applicationFileKey(applicationId);
    if (domains.length === 0) {
      await this.certFiles.sync(applicationId, []);
      return { kind: 'removed', existed: await this.files.remove(key), skipped };
    }
    const [{ install_id: installId }]: Array<{ install_id: string }> = await this.ds.query(`SELECT install_id FROM instance WHERE id = 1`);
    // Certificates that are valid now (an expired one is left out: Traefik would serve it and every client refuse it).
    const rows = await this.ds.manager
      .createQueryBuilder(CertificateEntity, 'c')
      .where(`c.application_id = :a AND c.status = 'valid' AND c.not_after > now() AND c.chain_pem IS NOT NULL AND c.key_box IS NOT NULL`, { a: applicationId })
      .orderBy('c.id')
      .getMany();
    const certificates = await this.certFiles.sync(applicationId, rows.map((c) => ({ id: c.id, serial: c.serial ?? '0', chainPem: c.chainPem!, keyPem: this.box.decrypt(c.keyBox!, certificateKeyAad(c.id)) })));
    const config = renderApplicationConfig({ installId, applicationId, serviceName, domains, certificates });
    const { changed } = await this.files.write(key, toTraefikYaml(config));
    return { kind: 'written', routers: Object.keys(config.http.routers).length, changed, skipped };
  }

  /** Whether the application has a domain the routing step would render (so its service joins the edge network). */
  async isRouted(applicationId: string): Promise<boolean> {
    return (await applicationDomains(this.ds.manager, applicationId)).domains.length > 0;
  }

  /** Removes the application's file (deleted application, torn-down environment); false when there was none. */
  async remove(applicationId: string): Promise<boolean> {
    await this.certFiles.sync(applicationId, []);
    return this.files.remove(applicationFileKey(applicationId));
  }
}
