/**
 * Whether a built image goes to the application's registry before the service uses it: Swarm runs a service's tasks
 * on any node its placement allows, and a node other than the one that built the image can only pull it from a
 * registry. Pure: the policy (WHARF_BUILD_PUSH), the application's registry, the active nodes and its constraints.
 */
export type PushPolicy = 'multi-node' | 'always' | 'never';

/** Constraints that pin every task to one node. */
const ONE_NODE = /^node\.(?:id|hostname)\s*==\s*\S+$/;

export function registryPushDecision(i: { policy: PushPolicy; registryId: string | null; activeNodes: number; constraints: readonly string[] }): { push: true; why: string } | { push: false; why: string | null } {
  if (i.policy === 'never') return { push: false, why: null };
  const pinned = i.constraints.some((c) => ONE_NODE.test(c.trim()));
  const spans = i.activeNodes > 1 && !pinned;
  if (i.policy === 'multi-node' && !spans) return { push: false, why: null };
  if (!i.registryId) {
    return spans
      ? { push: false, why: `The placement spans ${i.activeNodes} nodes but the application names no registry: nodes other than this one cannot pull the built image` }
      : { push: false, why: null };
  }
  return { push: true, why: i.policy === 'always' ? 'WHARF_BUILD_PUSH=always' : `the placement spans ${i.activeNodes} nodes` };
}

/** Where a built image goes in the registry: `host/wharf-<application>:<deployment>` (ids only). */
export const registryImageRef = (host: string, applicationId: string, deploymentId: string): string => `${host}/wharf-${applicationId.toLowerCase()}:${deploymentId.toLowerCase()}`;
