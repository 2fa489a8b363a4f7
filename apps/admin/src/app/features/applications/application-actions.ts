import type { ApplicationStatus, Deployment } from '../../core/api/api-types';

/** The lifecycle actions of the application header, in the order they are shown. */
export type HeaderAction = 'deploy' | 'redeploy' | 'restart' | 'stop' | 'start';
export const HEADER_ACTIONS: readonly HeaderAction[] = ['deploy', 'redeploy', 'restart', 'stop', 'start'];

/** Whether an action is offered, and when it is offered but not possible now, why (shown next to the button). */
export interface ActionAvailability {
  shown: boolean;
  disabled: boolean;
  reason: string | null;
}

export interface ActionInputs {
  /** The user holds the `deploy` ability on this application. */
  canDeploy: boolean;
  /** A deployment of this application succeeded at least once (something runs or ran). */
  deployed: boolean;
  desiredState: 'running' | 'stopped';
  /** A deployment that is queued or running (its status), or null. */
  inProgress: Deployment['status'] | null;
}

const HIDDEN: ActionAvailability = { shown: false, disabled: true, reason: null };

/**
 * Which header actions apply: nothing without the `deploy` ability; only Deploy before the first successful
 * deployment; Start when stopped; Stop, Restart and Redeploy when running. While a deployment is queued or running
 * every offered action is disabled with that reason (a new request would supersede or race it).
 */
export function applicationActions(i: ActionInputs): Record<HeaderAction, ActionAvailability> {
  const busy = i.inProgress ? `A deployment is ${i.inProgress}; wait until it ends` : null;
  const offer = (shown: boolean): ActionAvailability => (shown && i.canDeploy ? { shown: true, disabled: !!busy, reason: busy } : HIDDEN);
  const running = i.deployed && i.desiredState === 'running';
  const stopped = i.deployed && i.desiredState === 'stopped';
  return {
    deploy: offer(true),
    redeploy: offer(running),
    restart: offer(running),
    stop: offer(running),
    start: offer(stopped),
  };
}

export const ACTION_LABELS: Record<HeaderAction, string> = { deploy: 'Deploy', redeploy: 'Redeploy', restart: 'Restart', stop: 'Stop', start: 'Start' };
export const ACTION_DESCRIPTIONS: Record<HeaderAction, string> = {
  deploy: 'Deploys the saved configuration (image, settings, variables)',
  redeploy: 'Deploys the saved configuration again and replaces every container, even when nothing changed',
  restart: 'Replaces the running containers with new ones of the same deployment',
  stop: 'Scales the service to 0 replicas; its configuration and volumes are kept',
  start: 'Starts the service again with the configured number of replicas',
};

/** A deployment that is queued or running (the newest first in the history), or null. */
export function activeDeployment(list: readonly Deployment[] | null | undefined): Deployment | null {
  return list?.find((d) => d.status === 'queued' || d.status === 'running') ?? null;
}

/**
 * The live deployment: the one the running service comes from (the last that succeeded). The status's configuration
 * names it; without it, the newest succeeded one in the history. Roll back is not offered on it.
 */
export function liveDeploymentId(status: ApplicationStatus | null | undefined, list: readonly Deployment[] | null | undefined): string | null {
  if (status?.configuration?.deploymentId) return status.configuration.deploymentId;
  const done = (list ?? []).filter((d) => d.status === 'succeeded' && d.finishedAt);
  done.sort((a, b) => (a.finishedAt! < b.finishedAt! ? 1 : -1));
  return done[0]?.id ?? null;
}

/** Roll back is offered on a succeeded deployment other than the live one. */
export function canRollBackTo(d: Deployment, liveId: string | null): boolean {
  return d.status === 'succeeded' && d.id !== liveId;
}

/** The question the Roll back confirmation asks: which deployment (when, who, image and digest) comes back. */
export function rollbackQuestion(d: Deployment, when: string): string {
  const digest = d.imageDigest ? ` (${d.imageDigest})` : '';
  return `Roll back to deployment ${d.id.slice(-8)} (${d.kind}) of ${when} by ${d.requestedBy.name}?\n\nImage: ${d.image}${digest}\n\nIts configuration replaces the running one.`;
}

/**
 * The state shown for an application: "not deployed" while nothing was ever deployed (no succeeded deployment and no
 * Swarm service: the engine's "missing"/"unknown" say nothing useful then); null until the status is loaded.
 */
export function applicationState(status: ApplicationStatus | null | undefined): string | null {
  if (!status) return null;
  if (!status.configuration && (status.state === 'missing' || status.state === 'unknown')) return 'not deployed';
  return status.state;
}

/** The address a published port answers on, seen from the browser: the host the portal is opened on. */
export function openUrl(hostname: string, port: number): string {
  const host = hostname.includes(':') && !hostname.startsWith('[') ? `[${hostname}]` : hostname;
  return `http://${host}:${port}`;
}
