import { Inject, Injectable } from '@nestjs/common';
import { mkdir } from 'node:fs/promises';
import { edgeNetworkNameFor, edgeProxyServiceNameFor } from '@wharf/applications';
import { WHARF_CONFIG, WharfConfig } from '@wharf/core';
import { EnsureServiceResult, SWARM_PORT, SwarmPort } from '@wharf/orchestration';
import { EDGE_NETWORK_ROLE, EDGE_PROXY_ROLE, traefikServiceSpec } from './traefik-service-spec';

/** A network with the edge network's name that this install did not make for this organization: never used. */
export class EdgeNetworkNotOwnedError extends Error {}

/** How often ensureProxy re-reads the edge networks when another worker's ensure raced it. */
const MAX_PASSES = 5;

export interface EdgeEnsureResult {
  network: string;
  networkCreated: boolean;
  proxy: { name: string; action: EnsureServiceResult['action']; networks: number };
}

/**
 * The edge: one attachable overlay network per organization with routed applications (derived name, labels of this
 * install, the organization and `wharf.role=edge`) and this install's Traefik service attached to every one of them,
 * so Traefik reaches each organization's routed services while no network is shared between organizations.
 * Everything is idempotent and checks labels first: a same-named network or service without this install's labels is
 * refused, never reused or changed.
 */
@Injectable()
export class EdgeProxy {
  /** Ensures in this process run one after another (each reads the edge networks, then writes the service). */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(@Inject(SWARM_PORT) private readonly swarm: SwarmPort, @Inject(WHARF_CONFIG) private readonly config: WharfConfig) {}

  get enabled(): boolean {
    return this.config.edgeEnabled;
  }

  networkName(install: string, organizationId: string): string {
    return edgeNetworkNameFor(install, organizationId);
  }

  /** The organization's edge network (created when missing) and the Traefik service on it and every other edge network. */
  async ensureForOrganization(install: string, organizationId: string): Promise<EdgeEnsureResult> {
    const net = await this.ensureNetwork(install, organizationId);
    const proxy = await this.ensureProxy(install);
    return { network: net.name, networkCreated: net.created, proxy };
  }

  async ensureNetwork(install: string, organizationId: string): Promise<{ name: string; id: string; created: boolean }> {
    const name = edgeNetworkNameFor(install, organizationId);
    const labels = this.networkLabels(install, organizationId);
    const net = await this.swarm.ensureNetwork(name, labels);
    const missing = Object.entries(labels).filter(([k, v]) => net.labels[k] !== v);
    if (missing.length) {
      throw new EdgeNetworkNotOwnedError(
        `Network "${name}" exists but does not carry ${missing.map(([k, v]) => `${k}=${v}`).join(', ')}: Wharf does not use a network it did not create for this organization. Remove or rename that network.`,
      );
    }
    return { name, id: net.id, created: net.created };
  }

  /**
   * The Traefik service on every edge network of this install (but `excludeOrganization`'s, which is about to be
   * removed). After writing it reads the edge networks again: another worker may have added one while this one wrote
   * an older list, and whoever writes last then writes again, so no organization's network is left out.
   */
  ensureProxy(install: string, options: { excludeOrganization?: string } = {}): Promise<EdgeEnsureResult['proxy']> {
    const run = this.chain.then(() => this.ensureProxyNow(install, options));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** Takes an organization's edge network off the Traefik service (before the network is removed); nothing when there is no service. */
  async detachOrganization(install: string, organizationId: string): Promise<boolean> {
    const existing = await this.swarm.inspectService(edgeProxyServiceNameFor(install));
    if (!existing || existing.labels['wharf.install'] !== install || existing.labels['wharf.role'] !== EDGE_PROXY_ROLE) return false;
    await this.ensureProxy(install, { excludeOrganization: organizationId });
    return true;
  }

  private async ensureProxyNow(install: string, options: { excludeOrganization?: string }): Promise<EdgeEnsureResult['proxy']> {
    const name = edgeProxyServiceNameFor(install);
    // The bind mount's source must exist on the node or the task is rejected; the worker runs on the manager.
    await mkdir(this.config.traefikDir, { recursive: true, mode: 0o755 });
    let action: EnsureServiceResult['action'] = 'unchanged';
    for (let pass = 1; ; pass++) {
      const networks = await this.edgeNetworks(install, options.excludeOrganization);
      const spec = traefikServiceSpec({
        installId: install, serviceName: name, image: this.config.traefikImage, httpPort: this.config.edgeHttpPort, httpsPort: this.config.edgeHttpsPort,
        dynamicDir: this.config.traefikDir, networks: networks.map((n) => n.name),
      });
      const r = await this.swarm.ensureService(spec, { 'wharf.install': install, 'wharf.role': EDGE_PROXY_ROLE });
      if (r.action !== 'unchanged') action = r.action;
      const again = await this.edgeNetworks(install, options.excludeOrganization);
      const service = await this.swarm.inspectService(r.id);
      const attached = new Set(((service?.spec as { TaskTemplate?: { Networks?: Array<{ Target: string }> } })?.TaskTemplate?.Networks ?? []).map((n) => n.Target));
      const complete = again.every((n) => attached.has(n.id) || attached.has(n.name));
      if (complete || pass >= MAX_PASSES) return { name, action, networks: again.length };
    }
  }

  private networkLabels(install: string, organizationId: string): Record<string, string> {
    return { 'wharf.install': install, 'wharf.organization': organizationId, 'wharf.role': EDGE_NETWORK_ROLE };
  }

  /** This install's edge networks (labels checked again here, not only by the engine's filter), sorted by name. */
  private async edgeNetworks(install: string, excludeOrganization?: string): Promise<Array<{ id: string; name: string }>> {
    const list = await this.swarm.listNetworks({ 'wharf.install': install, 'wharf.role': EDGE_NETWORK_ROLE });
    return list
      .filter((n) => n.labels['wharf.install'] === install && n.labels['wharf.role'] === EDGE_NETWORK_ROLE && !!n.labels['wharf.organization'])
      .filter((n) => n.labels['wharf.organization'] !== excludeOrganization)
      // Only a network named as Wharf names it for its organization (a labelled copy under another name is not joined).
      .filter((n) => n.name === edgeNetworkNameFor(install, n.labels['wharf.organization']))
      .map((n) => ({ id: n.id, name: n.name }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}
