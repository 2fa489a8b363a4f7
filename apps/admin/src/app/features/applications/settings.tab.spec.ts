import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { Component } from '@angular/core';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { Application } from '../../core/api/api-types';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { BreadcrumbsComponent } from '../../shared/ui/breadcrumbs.component';
import { ApplicationStore } from './application.store';
import { SettingsTab } from './settings.tab';

@Component({ selector: 'w-blank', template: '' })
class Blank {}

const APP = { id: 'app-1', organizationId: 'org-a', projectId: 'p-1', environmentId: 'e-1', name: 'web', slug: 'web', spec: { image: 'nginx:1' }, version: 1 } as unknown as Application;

describe('SettingsTab rename', () => {
  let ctl: HttpTestingController;
  let current: Application;

  beforeEach(async () => {
    TestBed.configureTestingModule({
      providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([{ path: 'orgs/:orgId/applications/:applicationId', component: Blank }]), ApplicationStore],
    });
    ctl = TestBed.inject(HttpTestingController);
    const b = new AbilityBuilder(createMongoAbility);
    b.can('read', 'all', { organizationId: 'org-a' });
    b.can('update', 'application', { organizationId: 'org-a' });
    TestBed.inject(AbilitiesService).setPackedRules(packRules(b.build().rules) as never[]);
    const orgs = TestBed.inject(OrgContext);
    orgs.organizations.set([{ id: 'org-a', name: 'Acme', slug: 'acme' } as never]);
    orgs.currentId.set('org-a');
    current = APP;
    await TestBed.inject(Router).navigateByUrl('/orgs/org-a/applications/app-1');
  });
  afterEach(() => ctl.match(() => true).forEach((r) => r.flush({ items: [], nextCursor: null })));

  /** Answers every pending GET (the trail asks for the application, its project and environment). */
  async function settle(...fixtures: Array<ComponentFixture<unknown>>): Promise<void> {
    for (let i = 0; i < 10; i++) {
      ctl.match((r) => r.method === 'GET').forEach((r) => {
        const url = r.request.url;
        if (url === '/api/v1/applications/app-1') r.flush(current);
        else if (url === '/api/v1/projects/p-1') r.flush({ id: 'p-1', organizationId: 'org-a', name: 'Shop', slug: 'shop', version: 1 });
        else if (url === '/api/v1/environments/e-1') r.flush({ id: 'e-1', organizationId: 'org-a', projectId: 'p-1', name: 'Production', slug: 'production', version: 1 });
        else r.flush({ items: [], nextCursor: null });
      });
      for (const f of fixtures) await f.whenStable();
    }
  }

  it('shows the new name in the breadcrumb trail and the store (the header) right after the save', async () => {
    const trail = TestBed.createComponent(BreadcrumbsComponent);
    trail.autoDetectChanges();
    await settle(trail);
    const crumbs = () => (trail.nativeElement as HTMLElement).querySelector('nav[aria-label="Breadcrumb"]')?.textContent ?? '';
    expect(crumbs()).toContain('web');

    const store = TestBed.inject(ApplicationStore);
    store.app.set(APP);
    const tab = TestBed.createComponent(SettingsTab);
    tab.autoDetectChanges();
    await settle(trail, tab);
    const el = tab.nativeElement as HTMLElement;
    const name = el.querySelector<HTMLInputElement>('input[formcontrolname="name"]')!;
    expect(name.value).toBe('web');
    name.value = 'storefront';
    name.dispatchEvent(new Event('input'));
    el.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await tab.whenStable();
    const patch = ctl.expectOne((r) => r.method === 'PATCH' && r.url === '/api/v1/applications/app-1');
    expect(patch.request.body.name).toBe('storefront');
    current = { ...APP, name: 'storefront', version: 2 };
    patch.flush(current);
    await settle(trail, tab);

    expect(store.app()?.name).toBe('storefront');
    expect(crumbs()).toContain('storefront');
    expect(crumbs()).not.toContain('web');
    tab.destroy();
    trail.destroy();
  });
});
