import { ChangeDetectionStrategy, Component, computed, inject, input, OnInit, output, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatRadioModule } from '@angular/material/radio';
import { MatSelectModule } from '@angular/material/select';
import { firstValueFrom } from 'rxjs';
import type { Member } from '../../core/api/api-types';
import { Problem, toProblem } from '../../core/api/problem';
import { ProblemAlertComponent } from '../../shared/ui/problem-alert.component';
import { AccessChoice, accessBody, accessChoiceOf, AccessMode, ProjectNode } from './member-access';
import { OrganizationApi, roleValue } from './organization-api.service';

/**
 * A member's role and where it applies: the whole organization, or chosen projects (everything inside them) and
 * single environments. Saves with If-Match (the member's version).
 */
@Component({
  selector: 'w-member-access-editor',
  imports: [MatButtonModule, MatRadioModule, MatSelectModule, ProblemAlertComponent],
  template: `
    <section class="w-card" [attr.aria-label]="'Access of ' + member().name" data-testid="member-access-editor">
      <h3>Access of {{ member().name }}</h3>
      <w-problem [problem]="problem()" />
      <mat-form-field appearance="outline" class="wide">
        <mat-label>Role</mat-label>
        <mat-select [value]="choice().role" (valueChange)="set({ role: $event })">
          @for (o of roleOptions(); track o.value) {
            <mat-option [value]="o.value">{{ o.label }}</mat-option>
          }
        </mat-select>
      </mat-form-field>
      <mat-radio-group [value]="choice().mode" (change)="setMode($event.value)" aria-label="Where the role applies" class="modes">
        <mat-radio-button value="all">Whole organization</mat-radio-button>
        <mat-radio-button value="limited">Only selected projects and environments</mat-radio-button>
      </mat-radio-group>
      @if (choice().mode === 'limited') {
        @if (tree(); as nodes) {
          <div class="w-row">
            <mat-form-field appearance="outline" class="wide">
              <mat-label>Projects</mat-label>
              <mat-select multiple [value]="choice().projectIds" (valueChange)="set({ projectIds: $event })">
                @for (n of nodes; track n.project.id) {
                  <mat-option [value]="n.project.id">{{ n.project.name }}</mat-option>
                }
              </mat-select>
              <mat-hint>Every environment and application inside</mat-hint>
            </mat-form-field>
            <mat-form-field appearance="outline" class="wide">
              <mat-label>Environments</mat-label>
              <mat-select multiple [value]="choice().environmentIds" (valueChange)="set({ environmentIds: $event })">
                @for (n of nodes; track n.project.id) {
                  <mat-optgroup [label]="n.project.name">
                    @for (e of n.environments; track e.id) {
                      <mat-option [value]="e.id" [disabled]="choice().projectIds.includes(n.project.id)">{{ n.project.name }}/{{ e.name }}</mat-option>
                    }
                  </mat-optgroup>
                }
              </mat-select>
              <mat-hint>Single environments of other projects</mat-hint>
            </mat-form-field>
          </div>
          @if (nothingChosen()) {
            <p class="w-muted" role="status">Nothing chosen: the member sees the organization but no project.</p>
          }
        } @else {
          <p class="w-muted" role="status">Loading projects…</p>
        }
      }
      <div class="w-row actions">
        <button mat-flat-button type="button" (click)="save()" [disabled]="busy() || (choice().mode === 'limited' && !tree())">Save access</button>
        <button mat-button type="button" (click)="closed.emit(false)">Cancel</button>
      </div>
    </section>
  `,
  styles: `.wide { flex: 1 1 260px; min-width: 220px; } .modes { display: flex; flex-wrap: wrap; gap: 8px 16px; margin: 0 0 12px; } .actions { margin-top: 12px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class MemberAccessEditorComponent implements OnInit {
  private readonly api = inject(OrganizationApi);
  readonly orgId = input.required<string>();
  readonly member = input.required<Member>();
  readonly roleOptions = input.required<Array<{ value: string; label: string }>>();
  /** The organization's projects with their environments (null while loading). */
  readonly tree = input<ProjectNode[] | null>(null);
  /** true after a save. */
  readonly closed = output<boolean>();

  readonly choice = signal<AccessChoice>({ role: 'viewer', mode: 'all', projectIds: [], environmentIds: [] });
  readonly problem = signal<Problem | null>(null);
  readonly busy = signal(false);
  readonly nothingChosen = computed(() => !this.choice().projectIds.length && !this.choice().environmentIds.length);

  ngOnInit(): void {
    const m = this.member();
    this.choice.set(accessChoiceOf(m, roleValue(m.role, m.customRoleId)));
  }

  set(patch: Partial<AccessChoice>): void {
    this.choice.update((c) => ({ ...c, ...patch }));
  }

  setMode(mode: AccessMode): void {
    this.set({ mode });
  }

  async save(): Promise<void> {
    this.busy.set(true);
    this.problem.set(null);
    try {
      await firstValueFrom(this.api.updateMember(this.orgId(), this.member(), accessBody(this.choice(), this.tree() ?? [])));
      this.closed.emit(true);
    } catch (e) {
      this.problem.set(toProblem(e));
    } finally {
      this.busy.set(false);
    }
  }
}
