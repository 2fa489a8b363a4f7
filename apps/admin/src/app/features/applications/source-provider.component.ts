import { ChangeDetectionStrategy, Component, DestroyRef, effect, inject, input, signal, untracked } from '@angular/core';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { FormControl, ReactiveFormsModule } from '@angular/forms';
import { MatButtonModule } from '@angular/material/button';
import { MatFormFieldModule } from '@angular/material/form-field';
import { MatInputModule } from '@angular/material/input';
import { MatSelectModule } from '@angular/material/select';
import { debounceTime, distinctUntilChanged, firstValueFrom } from 'rxjs';
import { GitProvider, GitProvidersApi, ProviderBranch, ProviderRepository } from '../../core/api/git-providers-api.service';
import { toProblem } from '../../core/api/problem';

/**
 * In the Source tab: the organization's Git provider connection that supplies the credentials (or none), and pickers
 * fed by the connection's repositories and branches that fill the form's repository and ref (both stay editable). The
 * repository search asks the provider again (`?search=`) as one types (the API lists at most 100).
 */
@Component({
  selector: 'w-source-provider',
  imports: [ReactiveFormsModule, MatButtonModule, MatFormFieldModule, MatInputModule, MatSelectModule],
  template: `
    <div class="w-row">
      <mat-form-field>
        <mat-label>Git provider</mat-label>
        <mat-select [formControl]="providerId()" data-testid="source-provider">
          <mat-option value="">None (credentials below)</mat-option>
          @for (p of providers(); track p.id) {
            <mat-option [value]="p.id">{{ p.name }} ({{ p.kind }})</mat-option>
          }
        </mat-select>
        <mat-hint>A connection from Organization settings → Git providers</mat-hint>
      </mat-form-field>
      @if (selected()) {
        <mat-form-field>
          <mat-label>Search repositories</mat-label>
          <input matInput type="search" [formControl]="search" autocomplete="off" spellcheck="false" data-testid="provider-repository-search" />
          <mat-hint>Part of the name</mat-hint>
        </mat-form-field>
        <mat-form-field class="grow">
          <mat-label>Repository from the provider</mat-label>
          <mat-select [value]="pickedRepo()" (valueChange)="pickRepository($event)" [disabled]="disabled()" data-testid="provider-repository">
            @for (r of repositories(); track r.fullName) {
              <mat-option [value]="r.fullName">{{ r.fullName }}</mat-option>
            }
          </mat-select>
          <mat-hint>{{ repoHint() }}</mat-hint>
        </mat-form-field>
        @if (branches().length) {
          <mat-form-field>
            <mat-label>Branch</mat-label>
            <mat-select [value]="ref().value" (valueChange)="ref().setValue($event); ref().markAsDirty()" [disabled]="disabled()" data-testid="provider-branch">
              @for (b of branches(); track b.name) {
                <mat-option [value]="b.name">{{ b.name }}</mat-option>
              }
            </mat-select>
          </mat-form-field>
        }
      }
    </div>
  `,
  styles: `.grow { flex: 1 1 320px; }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class SourceProviderComponent {
  private readonly api = inject(GitProvidersApi);
  readonly organizationId = input.required<string>();
  readonly providerId = input.required<FormControl<string>>();
  readonly repository = input.required<FormControl<string>>();
  readonly ref = input.required<FormControl<string>>();
  readonly disabled = input(false);

  readonly providers = signal<GitProvider[]>([]);
  readonly repositories = signal<ProviderRepository[]>([]);
  readonly branches = signal<ProviderBranch[]>([]);
  readonly pickedRepo = signal<string | null>(null);
  readonly repoHint = signal('');
  readonly selected = signal('');
  readonly search = new FormControl('', { nonNullable: true });

  constructor() {
    effect(() => {
      const org = this.organizationId();
      untracked(() => void this.loadProviders(org));
    });
    effect((onCleanup) => {
      const c = this.providerId();
      untracked(() => this.selected.set(c.value));
      const sub = c.valueChanges.subscribe((v) => this.selected.set(v));
      onCleanup(() => sub.unsubscribe());
    });
    effect(() => {
      const id = this.selected();
      untracked(() => {
        this.search.setValue('', { emitEvent: false });
        void this.loadRepositories(id);
      });
    });
    this.search.valueChanges.pipe(debounceTime(300), distinctUntilChanged(), takeUntilDestroyed(inject(DestroyRef))).subscribe(() => void this.loadRepositories(this.selected()));
  }

  private async loadProviders(org: string): Promise<void> {
    try {
      this.providers.set(await firstValueFrom(this.api.list(org)));
    } catch {
      this.providers.set([]);
    }
  }

  private loads = 0;
  private async loadRepositories(providerId: string): Promise<void> {
    const load = ++this.loads;
    const search = this.search.value.trim();
    this.repositories.set([]);
    this.branches.set([]);
    this.pickedRepo.set(null);
    if (!providerId) return;
    this.repoHint.set('Asking the provider…');
    try {
      const repos = await firstValueFrom(this.api.repositories(providerId, search || undefined));
      if (load !== this.loads) return; // a newer search answered or will answer
      this.repositories.set(repos);
      const current = repos.find((r) => r.cloneUrl === this.repository().value);
      this.repoHint.set(repos.length ? (search ? `${repos.length} matching "${search}": fills the repository URL` : 'Fills the repository URL') : search ? `No repository matches "${search}"` : 'The connection sees no repository');
      if (current) await this.pickRepository(current.fullName, false);
    } catch (e) {
      if (load !== this.loads) return;
      this.repoHint.set(`The provider could not be asked: ${toProblem(e).detail}`);
    }
  }

  async pickRepository(fullName: string, fill = true): Promise<void> {
    const r = this.repositories().find((x) => x.fullName === fullName);
    if (!r) return;
    this.pickedRepo.set(fullName);
    if (fill) {
      this.repository().setValue(r.cloneUrl);
      this.repository().markAsDirty();
      if (r.defaultBranch) this.ref().setValue(r.defaultBranch);
    }
    try {
      this.branches.set(await firstValueFrom(this.api.branches(this.selected(), fullName)));
    } catch {
      this.branches.set([]);
    }
  }
}
