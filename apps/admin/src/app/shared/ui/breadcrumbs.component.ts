import { ChangeDetectionStrategy, Component, computed, effect, inject, Injectable, signal, untracked } from '@angular/core';
import { toSignal } from '@angular/core/rxjs-interop';
import { ActivatedRouteSnapshot, NavigationEnd, Router, RouterLink } from '@angular/router';
import { filter, firstValueFrom, map, startWith } from 'rxjs';
import { ResourcesApi } from '../../core/api/resources-api.service';
import { OrgContext } from '../../core/org/org-context.service';

/** The route parameters the trail is built from (any level of the active route). */
export interface TrailParams {
  orgId?: string;
  projectId?: string;
  environmentId?: string;
  applicationId?: string;
}

export interface Crumb {
  label: string;
  link: string[];
}

/** Merges the parameters of the active route chain (root to leaf). */
export function trailParams(root: ActivatedRouteSnapshot): TrailParams {
  const out: Record<string, string> = {};
  for (let r: ActivatedRouteSnapshot | null = root; r; r = r.firstChild) Object.assign(out, r.params);
  const { orgId, projectId, environmentId, applicationId } = out;
  return { orgId, projectId, environmentId, applicationId };
}

/** Screens that rename what the trail shows call `changed()`, and the trail asks for the names again. */
@Injectable({ providedIn: 'root' })
export class TrailNames {
  readonly version = signal(0);
  changed(): void {
    this.version.update((v) => v + 1);
  }
}

interface Names {
  key: string;
  project?: { id: string; name: string };
  environment?: { id: string; name: string };
  application?: { id: string; name: string };
}

/**
 * Organization › project › environment › service, from the URL's ids (the shell shows it above every screen below a
 * project). The names come from the API on each navigation and whenever a screen reports a rename (TrailNames); a
 * page that is not below a project shows no trail.
 */
@Component({
  selector: 'w-breadcrumbs',
  imports: [RouterLink],
  template: `
    @if (crumbs().length > 1) {
      <nav aria-label="Breadcrumb" class="trail">
        <ol>
          @for (c of crumbs(); track c.link.join('/'); let last = $last) {
            <li>
              @if (last) {
                <a [routerLink]="c.link" aria-current="page">{{ c.label }}</a>
              } @else {
                <a [routerLink]="c.link">{{ c.label }}</a><span class="sep" aria-hidden="true">›</span>
              }
            </li>
          }
        </ol>
      </nav>
    }
  `,
  styles: `
    .trail { max-width: 1100px; margin: 0 auto; padding: 12px 24px 0; box-sizing: border-box; font: var(--mat-sys-body-medium); }
    ol { list-style: none; margin: 0; padding: 0; display: flex; flex-wrap: wrap; align-items: center; gap: 4px; min-width: 0; }
    li { display: flex; align-items: center; gap: 4px; min-width: 0; max-width: 100%; }
    a { overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
    a[aria-current] { color: var(--mat-sys-on-surface); text-decoration: none; font-weight: 500; }
    .sep { color: var(--mat-sys-on-surface-variant); }
    @media (max-width: 600px) { .trail { padding: 8px 16px 0; } }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BreadcrumbsComponent {
  private readonly router = inject(Router);
  private readonly api = inject(ResourcesApi);
  private readonly orgs = inject(OrgContext);
  private readonly renamed = inject(TrailNames).version;
  private readonly params = toSignal(
    this.router.events.pipe(
      filter((e) => e instanceof NavigationEnd),
      startWith(null),
      map(() => trailParams(this.router.routerState.snapshot.root)),
    ),
    { initialValue: {} as TrailParams },
  );
  private readonly names = signal<Names>({ key: '' });

  readonly crumbs = computed<Crumb[]>(() => {
    const p = this.params();
    const org = this.orgs.current();
    if (!p.orgId || !org) return [];
    const n = this.names();
    if (n.key !== keyOf(p)) return [];
    const base = ['/orgs', p.orgId];
    const out: Crumb[] = [{ label: org.name, link: [...base, 'dashboard'] }];
    if (n.project) out.push({ label: n.project.name, link: [...base, 'projects', n.project.id] });
    if (n.project && n.environment) out.push({ label: n.environment.name, link: [...base, 'projects', n.project.id, 'environments', n.environment.id] });
    if (n.application) out.push({ label: n.application.name, link: [...base, 'applications', n.application.id] });
    return out;
  });

  constructor() {
    effect(() => {
      const p = this.params();
      this.renamed();
      untracked(() => void this.resolve(p));
    });
  }

  private async resolve(p: TrailParams): Promise<void> {
    const key = keyOf(p);
    if (!p.orgId || (!p.projectId && !p.applicationId)) {
      this.names.set({ key });
      return;
    }
    try {
      const names: Names = { key };
      let { projectId, environmentId } = p;
      if (p.applicationId) {
        const a = await firstValueFrom(this.api.application(p.applicationId));
        names.application = { id: a.id, name: a.name };
        projectId = a.projectId;
        environmentId = a.environmentId;
      }
      const [project, environment] = await Promise.all([
        projectId ? firstValueFrom(this.api.project(projectId)) : null,
        environmentId ? firstValueFrom(this.api.environment(environmentId)) : null,
      ]);
      if (project) names.project = { id: project.id, name: project.name };
      if (environment) names.environment = { id: environment.id, name: environment.name };
      // A slower answer for an earlier screen must not replace the current one.
      if (keyOf(this.params()) === key) this.names.set(names);
    } catch {
      // Gone or not visible: the screen itself says so; the trail shows only what it knows.
      if (keyOf(this.params()) === key) this.names.set({ key });
    }
  }
}

const keyOf = (p: TrailParams) => [p.orgId, p.projectId, p.environmentId, p.applicationId].join('|');
