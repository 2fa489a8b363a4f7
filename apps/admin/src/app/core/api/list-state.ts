import { signal } from '@angular/core';
import { firstValueFrom, Observable } from 'rxjs';
import { Problem, toProblem } from './problem';

/** A loaded value with loading and error states, as signals (lists show loading, empty and error states). */
export class Loadable<T> {
  readonly value = signal<T | null>(null);
  readonly loading = signal(false);
  readonly error = signal<Problem | null>(null);

  constructor(private readonly loader: () => Observable<T>) {}

  async load(): Promise<void> {
    this.loading.set(true);
    this.error.set(null);
    try {
      this.value.set(await firstValueFrom(this.loader()));
    } catch (e) {
      this.error.set(toProblem(e));
    } finally {
      this.loading.set(false);
    }
  }
}
