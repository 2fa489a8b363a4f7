import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { AbilityBuilder, createMongoAbility } from '@casl/ability';
import { packRules } from '@casl/ability/extra';
import { Application } from '../../core/api/api-types';
import type { Domain } from '../../core/api/domains-api.service';
import { AbilitiesService } from '../../core/auth/abilities.service';
import { ApplicationStore } from './application.store';
import { DomainsStore } from './domains.store';
import { DomainsTab } from './domains.tab';

const APP = { id: 'app-1', organizationId: 'org-a', projectId: 'p-1', environmentId: 'e-1', name: 'web', slug: 'web', spec: { image: 'nginx:1' }, version: 1 } as unknown as Application;
const STORED: Domain = {
  id: 'd-1', organizationId: 'org-a', projectId: 'p-1', environmentId: 'e-1', applicationId: 'app-1', host: 'shop.example.com', pathPrefix: '/', stripPrefix: false,
  port: 80, https: true, redirectHttpToHttps: true, wwwRedirect: false, redirects: [], basicAuth: [{ username: 'alice', passwordSet: true }], responseHeaders: {},
  ipAllowList: [], rateLimit: null, createdAt: '2026-01-01T00:00:00Z', updatedAt: '2026-01-01T00:00:00Z', version: 4,
};

describe('DomainsTab', () => {
  let ctl: HttpTestingController;
  let fixture: ComponentFixture<DomainsTab>;
  let el: HTMLElement;

  async function open(canUpdate: boolean, list: Domain[]): Promise<void> {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([]), ApplicationStore, DomainsStore] });
    ctl = TestBed.inject(HttpTestingController);
    const b = new AbilityBuilder(createMongoAbility);
    b.can('read', 'all', { organizationId: 'org-a' });
    if (canUpdate) b.can('update', 'application', { organizationId: 'org-a' });
    TestBed.inject(AbilitiesService).setPackedRules(packRules(b.build().rules) as never[]);
    TestBed.inject(ApplicationStore).app.set(APP);
    fixture = TestBed.createComponent(DomainsTab);
    fixture.autoDetectChanges();
    el = fixture.nativeElement as HTMLElement;
    await settle();
    ctl.expectOne('/api/v1/applications/app-1/domains').flush(list);
    // The certificates of every row: one request (see domain-certificate.spec.ts).
    ctl.expectOne('/api/v1/applications/app-1/certificates').flush([]);
    await settle();
  }
  afterEach(() => fixture?.destroy());

  /** Lets answered requests resolve their promises and the view catch up. */
  async function settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await new Promise((r) => setTimeout(r, 0));
      await fixture.whenStable();
    }
  }

  const button = (name: string) => [...el.querySelectorAll<HTMLButtonElement>('button')].find((b) => (b.getAttribute('aria-label') ?? b.textContent!.trim()) === name);
  const input = (name: string) => el.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[formcontrolname="${name}"]`)!;
  const type = (target: HTMLInputElement | HTMLTextAreaElement, value: string) => {
    target.value = value;
    target.dispatchEvent(new Event('input'));
  };
  const errors = () => [...el.querySelectorAll('mat-error')].map((e) => e.textContent!.trim()).filter(Boolean);
  async function submit(): Promise<void> {
    el.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await settle();
  }

  it('adds a domain: the body is what was typed, a 409 shows at the host, and after the save the list reloads with no "required" shown', async () => {
    await open(true, []);
    expect(el.textContent).toContain('No domains yet.');
    button('Add domain')!.click();
    await settle();
    // Nothing typed yet: no error is shown before a submit.
    expect(errors()).toEqual([]);
    await submit();
    expect(errors()).toEqual(expect.arrayContaining(['Host is required', 'Container port is required']));
    ctl.expectNone(() => true);

    type(input('host'), 'shop.example.com');
    type(input('port'), '8080');
    type(input('pathPrefix'), '/api');
    button('Add user')!.click();
    await settle();
    type(input('username'), 'bob');
    await submit();
    // A new user needs a password before anything is sent.
    expect(errors()).toEqual(['Password is required']);
    ctl.expectNone(() => true);
    type(input('password'), 'pw-1');
    type(input('ipAllowList'), '10.0.0.0/8\n192.168.1.1');
    await submit();

    const post = ctl.expectOne((r) => r.method === 'POST' && r.url === '/api/v1/applications/app-1/domains');
    expect(post.request.body).toEqual({
      host: 'shop.example.com', pathPrefix: '/api', stripPrefix: false, port: 8080, https: true, redirectHttpToHttps: true, wwwRedirect: false,
      redirects: [], basicAuth: [{ username: 'bob', password: 'pw-1' }], responseHeaders: {}, ipAllowList: ['10.0.0.0/8', '192.168.1.1'], rateLimit: null,
    });
    const taken = 'shop.example.com is already in use on this install';
    post.flush({ type: 'about:blank', title: 'Conflict', status: 409, detail: taken, code: 'domain-taken', requestId: null, errors: [{ pointer: '/host', code: 'domain-taken', detail: taken }] }, { status: 409, statusText: 'Conflict' });
    await settle();
    const hostField = input('host').closest('mat-form-field')!;
    expect(hostField.querySelector('mat-error')?.textContent?.trim()).toBe(taken);
    // Shown at the field, not repeated above the form.
    expect(el.querySelector('[role=alert]')).toBeNull();

    type(input('host'), 'shop2.example.com');
    await submit();
    ctl.expectOne((r) => r.method === 'POST').flush({ ...STORED, host: 'shop2.example.com', pathPrefix: '/api' });
    await settle();
    ctl.expectOne('/api/v1/applications/app-1/domains').flush([{ ...STORED, host: 'shop2.example.com', pathPrefix: '/api' }]);
    await settle();
    expect(el.querySelector('form')).toBeNull();
    expect(el.querySelector('table a')?.getAttribute('href')).toBe('https://shop2.example.com/api');

    // The form opens again empty and without "required" errors (the submitted state was reset too).
    button('Add domain')!.click();
    await settle();
    expect((input('host') as HTMLInputElement).value).toBe('');
    expect(errors()).toEqual([]);
  });

  it('edits a domain with If-Match: a known user without a new password is sent without one', async () => {
    await open(true, [STORED]);
    button('Edit shop.example.com')!.click();
    await settle();
    expect((input('host') as HTMLInputElement).value).toBe('shop.example.com');
    expect((input('password') as HTMLInputElement).value).toBe('');
    type(input('port'), '3000');
    await submit();
    const patch = ctl.expectOne((r) => r.method === 'PATCH' && r.url === '/api/v1/domains/d-1');
    expect(patch.request.headers.get('if-match')).toBe('"4"');
    expect(patch.request.body).toMatchObject({ port: 3000, basicAuth: [{ username: 'alice' }] });
    patch.flush({ type: 'about:blank', title: 'Bad Request', status: 400, detail: 'x', code: 'validation', requestId: null, errors: [{ pointer: '/basicAuth/0/username', code: 'invalid', detail: 'basicAuth[0].username is listed twice' }] }, { status: 400, statusText: 'Bad Request' });
    await settle();
    expect(input('username').closest('mat-form-field')!.querySelector('mat-error')?.textContent?.trim()).toBe('basicAuth[0].username is listed twice');
  });

  it('a wildcard host: the hint under Host, no www redirect, the server\'s DNS-01 refusal at the host, no link in the list', async () => {
    await open(true, [{ ...STORED, id: 'd-9', host: '*.apps.example.com', https: false, basicAuth: [] }]);
    // Listed as text: a wildcard is no address to open.
    expect([...el.querySelectorAll('table a')]).toEqual([]);
    expect(el.querySelector('[data-domain="d-9"]')!.textContent).toContain('http://*.apps.example.com/');
    button('Add domain')!.click();
    await settle();
    const hostField = input('host').closest('mat-form-field')!;
    expect(hostField.querySelector('mat-hint')?.textContent?.trim()).toBe('A wildcard (*.example.com) needs HTTPS through DNS-01');
    const www = () => el.querySelector<HTMLInputElement>('mat-checkbox[formcontrolname="wwwRedirect"] input')!;
    www().click();
    await settle();
    expect(www().checked).toBe(true);
    type(input('host'), '*.shop.example.com');
    await settle();
    // The option does not exist for a wildcard: unchecked and disabled, enabled again for a specific host.
    expect(www().checked).toBe(false);
    expect(www().disabled).toBe(true);
    type(input('port'), '8080');
    await submit();
    const post = ctl.expectOne((r) => r.method === 'POST' && r.url === '/api/v1/applications/app-1/domains');
    expect(post.request.body).toMatchObject({ host: '*.shop.example.com', https: true, wwwRedirect: false });
    const message = "wildcard certificates need the DNS-01 challenge; set a DNS provider in the organization's ACME settings";
    post.flush({ type: 'about:blank', title: 'Bad Request', status: 400, detail: `/host: ${message}`, code: 'validation-failed', requestId: null, errors: [{ pointer: '/host', code: 'wildcard-needs-dns-01', detail: message }] }, { status: 400, statusText: 'Bad Request' });
    await settle();
    expect(hostField.querySelector('mat-error')?.textContent?.trim()).toBe(message);
    expect(el.querySelector('[role=alert]')).toBeNull();
    type(input('host'), 'shop.example.com');
    await settle();
    expect(www().disabled).toBe(false);
  });

  it('lists the domains without write controls for a viewer', async () => {
    await open(false, [STORED, { ...STORED, id: 'd-2', host: 'plain.example.com', https: false, pathPrefix: '/docs' }]);
    const links = [...el.querySelectorAll('table a')].map((a) => a.getAttribute('href'));
    expect(links).toEqual(['https://shop.example.com/', 'http://plain.example.com/docs']);
    // No write control: only "Check DNS" and a disabled "Renew now" for the HTTPS domain.
    const buttons = [...el.querySelectorAll<HTMLButtonElement>('button')].map((b) => [b.getAttribute('aria-label'), b.disabled]);
    expect(buttons).toEqual([['Renew now: shop.example.com', true], ['Check DNS: shop.example.com', false]]);
    expect(el.querySelector('form')).toBeNull();
  });
});
