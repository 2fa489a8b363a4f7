import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { FormControl, ReactiveFormsModule } from '@angular/forms';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { TypedConfirmComponent } from './typed-confirm.component';

/** What a parent's delete dialog confirms: the typed word and whether the named volumes go too. */
export interface DeleteConfirmation {
  typed: string;
  removeVolumes: boolean;
}

/**
 * The delete of an environment, project or organization: a typed confirmation plus "Also delete named volumes"
 * (`?removeVolumes=true`). Unchecked, the volumes are kept and the audit entry lists them; volumes that existed before
 * Wharf managed them are always kept.
 */
@Component({
  selector: 'w-delete-with-volumes',
  imports: [ReactiveFormsModule, MatCheckboxModule, TypedConfirmComponent],
  template: `
    <mat-checkbox [formControl]="removeVolumes">Also delete named volumes (data is lost)</mat-checkbox>
    <p class="w-muted">Unchecked, the named volumes are kept; the audit log lists them. Volumes that predate Wharf's own volume names are always kept.</p>
    <w-typed-confirm [expected]="expected()" [action]="action()" [busy]="busy()" (confirmed)="confirmed.emit({ typed: $event, removeVolumes: removeVolumes.value })" />
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DeleteWithVolumesComponent {
  readonly expected = input.required<string>();
  readonly action = input('Delete');
  readonly busy = input(false);
  readonly confirmed = output<DeleteConfirmation>();
  readonly removeVolumes = new FormControl(false, { nonNullable: true });
}
