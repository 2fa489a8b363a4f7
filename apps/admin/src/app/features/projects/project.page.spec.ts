import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { ProjectPage } from './project.page';

const PROJECT = { id: 'p-1', organizationId: 'org-a', name: 'Shop', slug: 'shop', createdAt: '', updatedAt: '', version: 1 };
const env = (id: string, name: string) => ({ id, organizationId: 'org-a', projectId: 'p-1', name, slug: name.toLowerCase(), createdAt: '', updatedAt: '', version: 1 });

describe('ProjectPage new environment', () => {
  let ctl: HttpTestingController;
  let envs = [env('e-1', 'Production')];

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    ctl = TestBed.inject(HttpTestingController);
    const b = new AbilityBuilder(createMongoAbility);
    b.can('read', 'all', { organizationId: 'org-a' });
    b.can('create', 'environment', { organizationId: 'org-a' });
    TestBed.inject(AbilitiesService).setPackedRules(packRules(b.build().rules) as never[]);
    TestBed.inject(OrgContext).currentId.set('org-a');
    envs = [env('e-1', 'Production')];
  });
  afterEach(() => {
    ctl.match(() => true).forEach((r) => r.flush({ items: [], nextCursor: null }));
  });

  /** Answers every pending GET the page makes, by its URL. */
  function answerGets(): void {
    ctl.match((r) => r.method === 'GET').forEach((r: TestRequest) => {
      const url = r.request.url;
      if (url === '/api/v1/projects/p-1') r.flush(PROJECT);
      else if (url === '/api/v1/projects/p-1/environments') r.flush({ items: envs, nextCursor: null });
      else r.flush({ items: [], nextCursor: null });
    });
  }

  it('shows no "Name is required" once a new environment was created', async () => {
    const fixture = TestBed.createComponent(ProjectPage);
    fixture.componentRef.setInput('projectId', 'p-1');
    fixture.autoDetectChanges();
    const el = fixture.nativeElement as HTMLElement;
    let form: HTMLFormElement | null = null;
    for (let i = 0; i < 50 && !form; i++) {
      answerGets();
      await fixture.whenStable();
      form = el.querySelector<HTMLFormElement>('form[aria-label="New environment"]');
    }
    if (!form) throw new Error('the new-environment form never showed');
    const input = form.querySelector<HTMLInputElement>('input')!;
    input.value = 'Staging';
    input.dispatchEvent(new Event('input'));
    form.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await fixture.whenStable();
    const req = ctl.expectOne((r) => r.method === 'POST' && r.url === '/api/v1/projects/p-1/environments');
    expect(req.request.body).toEqual({ name: 'Staging' });
    envs = [...envs, env('e-2', 'Staging')];
    req.flush(envs[1]);
    for (let i = 0; i < 10; i++) {
      answerGets();
      await fixture.whenStable();
    }
    expect(el.querySelector('ul.envs')!.textContent).toContain('Staging');
    expect(input.value).toBe('');
    expect(form.querySelector('mat-error')?.textContent ?? '').not.toContain('required');
    expect(form.textContent).not.toContain('Name is required');
    expect(form.querySelector('.mat-form-field-invalid')).toBeNull();
    fixture.destroy();
  });
});
