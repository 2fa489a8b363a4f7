import { ChangeDetectionStrategy, ChangeDetectorRef, Component, effect, inject, input } from '@angular/core';
import { FormControl } from '@angular/forms';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { API_KEY_SCOPES, ApiKeyScope } from '@wharf/contracts';
import { fieldError } from '../../core/api/problem';

/** The scopes of an API key (organization service account or personal): one checkbox per scope, bound to a form control. */
@Component({
  selector: 'w-scope-picker',
  imports: [MatCheckboxModule],
  template: `
    <fieldset class="scopes">
      <legend class="w-muted">Scopes</legend>
      @for (s of choices; track s) {
        <mat-checkbox [checked]="has(s)" (change)="toggle(s, $event.checked)">{{ s }}</mat-checkbox>
      }
    </fieldset>
    @if (error(); as err) {
      <p class="w-muted" role="alert">{{ err }}</p>
    }
  `,
  styles: `.scopes { display: flex; gap: 8px; flex-wrap: wrap; border: 0; padding: 0; margin: 0 0 8px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ScopePickerComponent {
  readonly control = input.required<FormControl<ApiKeyScope[]>>();
  readonly choices = API_KEY_SCOPES;

  constructor() {
    // The form may be reset or get a server error from outside: re-render on any change of the control.
    const cdr = inject(ChangeDetectorRef);
    effect((onCleanup) => {
      const sub = this.control().events.subscribe(() => cdr.markForCheck());
      onCleanup(() => sub.unsubscribe());
    });
  }

  has(s: ApiKeyScope): boolean {
    return this.control().value.includes(s);
  }

  toggle(s: ApiKeyScope, on: boolean): void {
    const c = this.control();
    const rest = c.value.filter((x) => x !== s);
    c.setValue(on ? [...rest, s] : rest);
    c.markAsTouched();
  }

  error(): string | null {
    return fieldError(this.control(), 'Scopes');
  }
}
