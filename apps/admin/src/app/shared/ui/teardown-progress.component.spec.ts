import { provideHttpClient } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting, TestRequest } from '@angular/common/http/testing';
import { ComponentFixture, TestBed } from '@angular/core/testing';
import { provideRouter } from '@angular/router';
import { Teardown } from '../../core/api/resources-api.service';
import { TeardownProgressComponent } from './teardown-progress.component';

const now = () => new Date().toISOString();
const teardown = (over: Partial<Teardown>): Teardown => ({
  id: 't-1', organizationId: 'org-a', projectId: 'p-1', scope: 'environment', subjectId: 'e-2', subjectName: 'Staging', status: 'queued', removeVolumes: false,
  removed: { services: [], networks: [], volumes: [] }, attempts: 0, error: null, createdAt: now(), updatedAt: now(), ...over,
});

describe('TeardownProgressComponent', () => {
  let ctl: HttpTestingController;

  beforeEach(() => {
    TestBed.configureTestingModule({ providers: [provideHttpClient(), provideHttpClientTesting(), provideRouter([])] });
    ctl = TestBed.inject(HttpTestingController);
  });
  afterEach(() => ctl.verify());

  function open(projectId: string | null = null): ComponentFixture<TeardownProgressComponent> {
    const f = TestBed.createComponent(TeardownProgressComponent);
    f.componentRef.setInput('orgId', 'org-a');
    f.componentRef.setInput('projectId', projectId);
    f.componentRef.setInput('pollMs', 10);
    f.autoDetectChanges();
    return f;
  }

  /** The next list request (polls come after pollMs), answered with `items`. */
  async function answer(f: ComponentFixture<unknown>, items: Teardown[]): Promise<TestRequest> {
    for (let i = 0; i < 200; i++) {
      const reqs = ctl.match((r) => r.url === '/api/v1/organizations/org-a/teardowns');
      if (reqs.length) {
        expect(reqs).toHaveLength(1);
        reqs[0].flush({ items });
        await new Promise((r) => setTimeout(r, 0));
        await f.whenStable();
        return reqs[0];
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no teardowns request');
  }
  const rows = (f: ComponentFixture<unknown>) => Array.from((f.nativeElement as HTMLElement).querySelectorAll('li')).map((li) => li.textContent!.trim());

  it('shows a running teardown counting up, polls while it runs, then shows its result and stops polling', async () => {
    const f = open('p-1');
    const first = await answer(f, [teardown({ status: 'running', attempts: 1, removed: { services: ['web'], networks: [], volumes: [] } })]);
    expect(first.request.params.get('projectId')).toBe('p-1');
    expect(rows(f)).toEqual(['Removing environment Staging: 1 service, 0 networks…']);
    expect((f.nativeElement as HTMLElement).querySelector('[role=status]')).not.toBeNull();

    await answer(f, [teardown({ status: 'running', attempts: 1, removed: { services: ['web', 'api'], networks: ['net'], volumes: [] } })]);
    expect(rows(f)).toEqual(['Removing environment Staging: 2 services, 1 network…']);

    await answer(f, [teardown({ status: 'succeeded', attempts: 1, removed: { services: ['web', 'api'], networks: ['net'], volumes: [] } })]);
    expect(rows(f)).toEqual(['Removed environment Staging: 2 services, 1 network']);
    // Nothing in progress: no more requests.
    await new Promise((r) => setTimeout(r, 60));
    expect(ctl.match(() => true)).toHaveLength(0);
    f.destroy();
  });

  it('shows a failure with its error (and a retry as still in progress), and old finished teardowns not at all', async () => {
    const f = open();
    const old = new Date(Date.now() - 60 * 60_000).toISOString();
    await answer(f, [
      teardown({ id: 't-2', subjectName: 'Preview', status: 'queued', attempts: 1, error: 'network is in use' }),
      teardown({ id: 't-3', scope: 'project', subjectId: 'p-9', subjectName: 'Old shop', status: 'succeeded', updatedAt: old, removed: { services: ['x'], networks: [], volumes: [] } }),
    ]);
    expect(rows(f)).toEqual(['Removing environment Preview: 0 services, 0 networks… retrying after: network is in use']);
    await answer(f, [teardown({ id: 't-2', subjectName: 'Preview', status: 'failed', attempts: 10, error: 'network is in use', removeVolumes: true })]);
    expect(rows(f)).toEqual(['Removing environment Preview failed: network is in use']);
    expect((f.nativeElement as HTMLElement).querySelector('li')!.getAttribute('data-status')).toBe('failed');
    await new Promise((r) => setTimeout(r, 60));
    expect(ctl.match(() => true)).toHaveLength(0);
    f.destroy();
  });

  it('shows nothing (and does not poll) when there is nothing to show', async () => {
    const f = open();
    await answer(f, []);
    expect((f.nativeElement as HTMLElement).querySelector('section')).toBeNull();
    await new Promise((r) => setTimeout(r, 60));
    expect(ctl.match(() => true)).toHaveLength(0);
    f.destroy();
  });
});
