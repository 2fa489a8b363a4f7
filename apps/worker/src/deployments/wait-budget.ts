/** Below this, a resumed deployment still gets one short look at Swarm (it may have converged while no worker ran). */
export const MIN_RESUMED_WAIT_MS = 2000;

/**
 * How long the wait step may take. A first run gets the application's whole `deployTimeoutMs`; a deployment resumed
 * after its worker died gets only what is left of that budget counted from when it first started, so a crash loop of
 * workers cannot keep a deployment `running` for several timeouts in a row.
 */
export function waitBudgetMs(deployTimeoutMs: number, startedAt: Date | null, resumed: boolean, now = Date.now()): number {
  if (!resumed || !startedAt) return deployTimeoutMs;
  const left = startedAt.getTime() + deployTimeoutMs - now;
  return Math.min(deployTimeoutMs, Math.max(MIN_RESUMED_WAIT_MS, left));
}
