import { MAX_RUN_MARGIN_MS, maxRunLeftMs, MIN_RESUMED_WAIT_MS, waitBudgetMs } from './wait-budget';

describe('waitBudgetMs', () => {
  const started = new Date('2026-11-25T10:00:00Z');
  const at = (s: number) => started.getTime() + s * 1000;

  it('gives a first run the whole timeout, however long ago it started', () => {
    expect(waitBudgetMs(120_000, started, false, at(500))).toBe(120_000);
    expect(waitBudgetMs(120_000, null, false, at(0))).toBe(120_000);
  });

  it('gives a resumed run only what is left since it first started', () => {
    expect(waitBudgetMs(120_000, started, true, at(30))).toBe(90_000);
    expect(waitBudgetMs(120_000, started, true, at(119))).toBe(MIN_RESUMED_WAIT_MS);
    expect(waitBudgetMs(120_000, started, true, at(600))).toBe(MIN_RESUMED_WAIT_MS);
  });

  it('never gives more than the timeout (a clock ahead of the database)', () => {
    expect(waitBudgetMs(120_000, started, true, at(-30))).toBe(120_000);
  });
});

describe('maxRunLeftMs', () => {
  const started = new Date('2026-11-25T10:00:00Z');
  const at = (s: number) => started.getTime() + s * 1000;

  it('allows the timeout plus the margin from the first start, resumed or not', () => {
    expect(maxRunLeftMs(120_000, started, at(0))).toBe(120_000 + MAX_RUN_MARGIN_MS);
    expect(maxRunLeftMs(120_000, started, at(100))).toBe(20_000 + MAX_RUN_MARGIN_MS);
  });

  it('is zero once the deadline passed (the run is aborted at once) and counts from now without a start', () => {
    expect(maxRunLeftMs(120_000, started, at(120 + MAX_RUN_MARGIN_MS / 1000 + 5))).toBe(0);
    expect(maxRunLeftMs(120_000, null, at(50))).toBe(120_000 + MAX_RUN_MARGIN_MS);
  });
});
