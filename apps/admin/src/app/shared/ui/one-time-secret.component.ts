import { Clipboard } from '@angular/cdk/clipboard';
import { ChangeDetectionStrategy, Component, inject, input, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';

/** A secret the API returns once (API key, invitation link): shown with a copy button until dismissed. */
@Component({
  selector: 'w-one-time-secret',
  imports: [MatButtonModule],
  template: `
    <div class="w-card secret" role="status">
      <p><strong>{{ label() }}</strong> — shown only once. Copy it now.</p>
      <div class="w-row">
        <code class="w-secret" data-testid="one-time-secret">{{ value() }}</code>
        <button mat-stroked-button type="button" (click)="copy()">{{ copied() ? 'Copied' : 'Copy' }}</button>
        <button mat-button type="button" (click)="dismissed.emit()">Done</button>
      </div>
    </div>
  `,
  styles: `.secret code { flex: 1 1 320px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class OneTimeSecretComponent {
  private readonly clipboard = inject(Clipboard);
  readonly label = input.required<string>();
  readonly value = input.required<string>();
  readonly dismissed = output<void>();
  readonly copied = signal(false);

  copy(): void {
    this.copied.set(this.clipboard.copy(this.value()));
  }
}
