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

/** On top of a deployment's own convergence timeout: the pull budget (10 min) plus a margin for the other steps. */
export const MAX_RUN_MARGIN_MS = 11 * 60_000;

/**
 * How much longer a deployment may run, counted from when it first started (a resume does not restart the clock): a
 * deployment whose lease keeps being renewed (its worker alive but a step stuck) is aborted as timed out past
 * `deployTimeoutMs` + MAX_RUN_MARGIN_MS. The watchdog fails a deployment nobody renews at the same deadline.
 */
export function maxRunLeftMs(deployTimeoutMs: number, startedAt: Date | null, now = Date.now()): number {
  const start = startedAt?.getTime() ?? now;
  return Math.max(0, start + deployTimeoutMs + MAX_RUN_MARGIN_MS - now);
}
