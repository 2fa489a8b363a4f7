import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { OrgContext } from '../../core/org/org-context.service';
import { EnvironmentPage } from './environment.page';

const ENV = { id: 'e-1', organizationId: 'org-a', projectId: 'p-1', name: 'Staging', slug: 'staging', createdAt: '', updatedAt: '', version: 1 };

describe('EnvironmentPage delete', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    ctl = TestBed.inject(HttpTestingController);
    const b = new AbilityBuilder(createMongoAbility);
    b.can('delete', 'environment', { organizationId: 'org-a' });
    TestBed.inject(AbilitiesService).setPackedRules(packRules(b.build().rules) as never[]);
    TestBed.inject(OrgContext).currentId.set('org-a');
    jest.spyOn(TestBed.inject(Router), 'navigate').mockResolvedValue(true);
  });
  afterEach(() => ctl.verify());

  async function openAndConfirm(check: boolean): Promise<string | null> {
    const fixture = TestBed.createComponent(EnvironmentPage);
    fixture.componentRef.setInput('projectId', 'p-1');
    fixture.componentRef.setInput('environmentId', 'e-1');
    fixture.autoDetectChanges();
    await fixture.whenStable();
    ctl.expectOne('/api/v1/environments/e-1').flush(ENV);
    ctl.expectOne((r) => r.url === '/api/v1/environments/e-1/applications').flush({ items: [], nextCursor: null });
    // The variables editor appears with the environment and lists its variables: answer until the danger zone shows.
    const el = fixture.nativeElement as HTMLElement;
    let danger: HTMLElement | null = null;
    for (let i = 0; i < 50 && !danger; i++) {
      ctl.match((r) => r.method === 'GET').forEach((r) => r.flush({ items: [], nextCursor: null }));
      await fixture.whenStable();
      danger = el.querySelector<HTMLElement>('section[aria-label="Delete environment"]');
    }
    if (!danger) throw new Error('the danger zone never showed');
    const box = danger.querySelector<HTMLInputElement>('input[type=checkbox]')!;
    expect(box.closest('mat-checkbox')!.textContent!.trim()).toBe('Also delete named volumes (data is lost)');
    expect(box.checked).toBe(false);
    if (check) box.click();
    const typed = danger.querySelector<HTMLInputElement>('w-typed-confirm input')!;
    typed.value = 'staging';
    typed.dispatchEvent(new Event('input'));
    await fixture.whenStable();
    const button = danger.querySelector<HTMLButtonElement>('w-typed-confirm button')!;
    expect(button.disabled).toBe(false);
    button.click();
    const req = ctl.expectOne((r) => r.method === 'DELETE' && r.url === '/api/v1/environments/e-1');
    const flag = req.request.params.get('removeVolumes');
    req.flush(null, { status: 204, statusText: 'No Content' });
    ctl.match((r) => r.method === 'GET').forEach((r) => r.flush({ items: [], nextCursor: null }));
    await fixture.whenStable();
    return flag;
  }

  it('sends removeVolumes=true when "Also delete named volumes" is checked', async () => {
    expect(await openAndConfirm(true)).toBe('true');
  });

  it('sends removeVolumes=false when it is left unchecked', async () => {
    expect(await openAndConfirm(false)).toBe('false');
  });
});
