import { HttpClient } from '@angular/common/http';
import { ChangeDetectionStrategy, Component, computed, effect, inject, untracked } from '@angular/core';
import { API, ProjectPage } from '../../core/api/api-types';
import { Loadable } from '../../core/api/list-state';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ListStateComponent } from '../../shared/ui/list-state.component';

/** The organization's start page. For now: its projects (project, environment and application screens come next). */
@Component({
  selector: 'w-dashboard-page',
  imports: [ListStateComponent],
  template: `
    <div class="w-page">
      <h1>{{ org()?.name }}</h1>
      <h2>Projects</h2>
      @if (canReadProjects()) {
        <w-list-state [loading]="projects.loading()" [error]="projects.error()" [count]="projects.value()?.items?.length"
          emptyText="No projects yet." (retry)="projects.load()">
          <ul class="projects" aria-label="Projects">
            @for (p of projects.value()?.items; track p.id) {
              <li class="w-card">
                <strong>{{ p.name }}</strong> <span class="w-muted">{{ p.slug }}</span>
                @if (p.description) {
                  <p>{{ p.description }}</p>
                }
              </li>
            }
          </ul>
        </w-list-state>
      } @else {
        <p class="w-muted">You cannot see projects in this organization.</p>
      }
    </div>
  `,
  styles: `.projects { list-style: none; padding: 0; margin: 0; display: grid; gap: 12px; grid-template-columns: repeat(auto-fill, minmax(260px, 1fr)); }`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class DashboardPage {
  private readonly http = inject(HttpClient);
  private readonly abilities = inject(AbilitiesService);
  private readonly orgs = inject(OrgContext);
  readonly org = this.orgs.current;
  readonly canReadProjects = computed(() => this.abilities.can('read', 'project', this.orgs.currentId()));
  readonly projects = new Loadable(() => this.http.get<ProjectPage>(`${API}/organizations/${this.orgs.currentId()}/projects`, { params: { limit: 50 } }));

  constructor() {
    effect(() => {
      if (this.orgs.currentId() && this.canReadProjects()) untracked(() => void this.projects.load());
    });
  }
}
