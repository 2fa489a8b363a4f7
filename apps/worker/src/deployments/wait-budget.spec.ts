import { MIN_RESUMED_WAIT_MS, waitBudgetMs } from './wait-budget';

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
