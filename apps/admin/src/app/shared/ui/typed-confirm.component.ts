import { ChangeDetectionStrategy, Component, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';

/** A destructive action confirmed by typing a word (the resource's slug or name): the button stays off until it matches. */
@Component({
  selector: 'w-typed-confirm',
  imports: [MatButtonModule, MatFormFieldModule, MatInputModule],
  template: `
    <div class="w-row confirm">
      <mat-form-field>
        <mat-label>Type {{ expected() }} to confirm</mat-label>
        <input matInput autocomplete="off" [value]="typed()" (input)="typed.set($any($event.target).value)" />
      </mat-form-field>
      <button mat-flat-button class="danger" type="button" [disabled]="typed() !== expected() || busy()" (click)="confirmed.emit(typed())">{{ action() }}</button>
    </div>
  `,
  styles: `.confirm { align-items: baseline; } .danger:not([disabled]) { background: var(--mat-sys-error); color: var(--mat-sys-on-error); }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class TypedConfirmComponent {
  readonly expected = input.required<string>();
  readonly action = input('Delete');
  readonly busy = input(false);
  readonly confirmed = output<string>();
  readonly typed = signal('');
}
