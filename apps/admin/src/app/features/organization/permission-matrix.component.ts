import { ChangeDetectionStrategy, Component, computed, input, model } from '@angular/core';
import { MatCheckboxModule } from '@angular/material/checkbox';
import { ACTIONS, Action, Permission, SUBJECT_ACTIONS, SUBJECTS, Subject } from '@wharf/contracts';

/** Subjects × actions checkboxes over the shared permission vocabulary (libs/contracts). */
@Component({
  selector: 'w-permission-matrix',
  imports: [MatCheckboxModule],
  template: `
    <table class="w-table matrix" [attr.aria-label]="label()">
      <thead>
        <tr>
          <th scope="col">Subject</th>
          @for (a of actions; track a) {
            <th scope="col">{{ a }}</th>
          }
        </tr>
      </thead>
      <tbody>
        @for (s of subjects; track s) {
          <tr>
            <th scope="row">{{ s }}</th>
            @for (a of actions; track a) {
              <td>
                @if (allowed(s, a)) {
                  <mat-checkbox [checked]="selected().has(s + ':' + a)" [disabled]="disabled()" (change)="toggle(s, a, $event.checked)"
                    [aria-label]="s + ' ' + a" />
                }
              </td>
            }
          </tr>
        }
      </tbody>
    </table>
  `,
  styles: `.matrix td, .matrix th { padding: 2px 6px; } .matrix { overflow-x: auto; display: block; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PermissionMatrixComponent {
  readonly permissions = model<Permission[]>([]);
  readonly disabled = input(false);
  readonly label = input('Permissions');
  readonly subjects = SUBJECTS;
  readonly actions = ACTIONS;
  readonly selected = computed(() => new Set<string>(this.permissions()));

  allowed(s: Subject, a: Action): boolean {
    return SUBJECT_ACTIONS[s].includes(a);
  }

  toggle(s: Subject, a: Action, on: boolean): void {
    const p = `${s}:${a}` as Permission;
    const rest = this.permissions().filter((x) => x !== p);
    this.permissions.set(on ? [...rest, p] : rest);
  }
}
