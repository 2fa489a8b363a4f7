import { DOCUMENT } from '@angular/common';
import { inject, Injectable, signal } from '@angular/core';

export type ThemeChoice = 'system' | 'light' | 'dark';
const KEY = 'wharf.theme';

/** Light, dark or the system's choice; remembered in localStorage and applied as a class on <html>. */
@Injectable({ providedIn: 'root' })
export class ThemeService {
  private readonly doc = inject(DOCUMENT);
  readonly choice = signal<ThemeChoice>(this.read());

  apply(): void {
    const root = this.doc.documentElement;
    root.classList.remove('theme-light', 'theme-dark');
    const c = this.choice();
    if (c !== 'system') root.classList.add(`theme-${c}`);
  }

  set(choice: ThemeChoice): void {
    this.choice.set(choice);
    try {
      localStorage.setItem(KEY, choice);
    } catch {
      /* not remembered */
    }
    this.apply();
  }

  next(): void {
    const order: ThemeChoice[] = ['system', 'light', 'dark'];
    this.set(order[(order.indexOf(this.choice()) + 1) % order.length]);
  }

  private read(): ThemeChoice {
    try {
      const v = localStorage.getItem(KEY);
      return v === 'light' || v === 'dark' ? v : 'system';
    } catch {
      return 'system';
    }
  }
}
