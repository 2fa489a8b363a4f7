import { readFileSync } from 'node:fs';
import request from 'supertest';
import type { Browser, Page } from 'playwright-core';
import { check, eventually, launchBrowser, signedInPage } from '../support/browser';
import { startTestApp, TestApp } from '../support/app';
import { Session, setupOwner } from '../support/api';
import { ensureBusyboxImage } from '../support/docker/busybox-image';
import { SwarmTestRun } from '../support/docker/swarm-test-run';
import { httpdSpec, productionEnvironment, swarmRunFor, waitForDeployment } from '../support/deploy';

/**
 * Variables as a raw `.env` (paste with line-numbered errors, secrets masked, "Reveal all" audited per secret, download
 * of the revealed values), inline row editing with Cancel, the effective update order in Settings, and a banner when
 * the running deployment differs from the saved configuration (a changed variable, or a rollback) with a redeploy button.
 * One deployed application for the whole file (deployments run on the real Swarm).
 */

jest.setTimeout(120_000);

describe('variables, effective update order and configuration drift', () => {
  const lock = new SwarmTestRun();
  let run: SwarmTestRun;
  let t: TestApp;
  let browser: Browser;
  let page: Page;
  let owner: Session & { organizationId: string };
  let orgId = '';
  let env: { projectId: string; environmentId: string };
  let appId = '';
  const secret = `s3cret-${Date.now()}`;

  beforeAll(async () => {
    await lock.start();
    t = await startTestApp();
    run = await swarmRunFor(t);
    await ensureBusyboxImage(run.docker);
    owner = await setupOwner(t, 'owner@example.com', 'Acme');
    orgId = owner.organizationId;
    env = await productionEnvironment(t, owner, orgId);
    const app = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'web', spec: httpdSpec(null) }).expect(201);
    appId = app.body.id;
    await request(t.server).put(`/api/v1/applications/${appId}/variables`).set(owner.auth).send({ variables: [{ key: 'API_TOKEN', value: secret, secret: true }, { key: 'BODY', value: 'one' }] }).expect(200);
    browser = await launchBrowser();
    ({ page } = await signedInPage(browser, t.baseUrl, 'owner@example.com', orgId, { acceptDownloads: true }));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await t?.close();
    await run?.cleanup().catch(() => undefined);
    await lock.cleanup();
  });

  const appVars = async () => (await request(t.server).get(`/api/v1/applications/${appId}/variables`).set(owner.auth).expect(200)).body as Array<{ key: string; value: string | null }>;
  const reveals = async () => {
    const res = await request(t.server).get(`/api/v1/organizations/${orgId}/audit-events?action=variable.revealed&limit=200`).set(owner.auth).expect(200);
    return res.body.items as Array<{ subject: { name: string }; changes: unknown }>;
  };
  const banner = () => page.getByRole('status', { name: 'Configuration not applied' });

  it('the .env editor names invalid lines, saves a paste, masks secrets until "Reveal all" (audited per secret) and downloads the revealed file', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/variables`);
    await page.getByRole('button', { name: 'Edit as .env' }).click();
    const editor = page.getByRole('region', { name: '.env editor (Application variables)' });
    const text = editor.getByLabel('.env contents');
    // Secrets are masked in the text; plain values are shown.
    await eventually(async () => (await text.inputValue()).includes('API_TOKEN=••••••••') && (await text.inputValue()).includes('BODY=one'), true);
    expect(await text.inputValue()).not.toContain(secret);
    await expect(editor.getByRole('button', { name: 'Download .env' }).isDisabled()).resolves.toBe(true);

    await text.fill(`${await text.inputValue()}# pasted\nexport NEW_ONE="a b"\n1BAD=x\nno equals sign\n`);
    await editor.getByRole('button', { name: 'Apply .env' }).click();
    const errors = editor.getByRole('alert', { name: 'Invalid .env lines' });
    await errors.getByText(/^Line 5: "1BAD" is not a valid key/).waitFor();
    await errors.getByText('Line 6: expected KEY=value').waitFor();
    expect((await appVars()).map((v) => v.key)).toEqual(['API_TOKEN', 'BODY']); // nothing saved

    await text.fill((await text.inputValue()).replace('1BAD=x\nno equals sign\n', 'LATER=2\n'));
    await editor.getByRole('button', { name: 'Apply .env' }).click();
    await editor.getByText('Saved 2 variables.').waitFor();
    await page.getByRole('table', { name: 'Application variables' }).getByRole('cell', { name: 'a b', exact: true }).waitFor();
    const saved = Object.fromEntries((await appVars()).map((v) => [v.key, v.value]));
    expect(saved).toEqual({ API_TOKEN: null, BODY: 'one', LATER: '2', NEW_ONE: 'a b' }); // the masked secret was kept
    await request(t.server).post(`/api/v1/applications/${appId}/variables/API_TOKEN/reveal`).set(owner.auth).expect(200).expect((r) => expect(r.body.value).toBe(secret));
    const before = (await reveals()).length;

    await editor.getByRole('button', { name: 'Reveal all' }).click();
    await eventually(async () => (await text.inputValue()).includes(`API_TOKEN=${secret}`), true);
    // One audit entry per revealed secret, naming the key, never the value.
    await eventually(async () => (await reveals()).length, before + 1, 10_000);
    const audit = await reveals();
    expect(audit[0].subject.name).toBe('API_TOKEN');
    expect(JSON.stringify(audit)).not.toContain(secret);
    await check(page, 'variables-env-editor');

    const download = page.waitForEvent('download');
    await editor.getByRole('button', { name: 'Download .env' }).click();
    const file = readFileSync(await (await download).path(), 'utf8');
    expect(file).toBe(`API_TOKEN=${secret}\nBODY=one\nLATER=2\nNEW_ONE="a b"\n`);
    await editor.getByRole('button', { name: 'Close' }).click();
  });

  it('the environment and project variables have the same .env editor', async () => {
    for (const [url, label, key] of [
      [`/orgs/${orgId}/projects/${env.projectId}/environments/${env.environmentId}`, 'Environment variables', 'ENV_ONE'],
      [`/orgs/${orgId}/projects/${env.projectId}`, 'Project variables', 'PROJECT_ONE'],
    ] as const) {
      await page.goto(url);
      await page.getByRole('button', { name: 'Edit as .env' }).click();
      const editor = page.getByRole('region', { name: `.env editor (${label})` });
      await editor.getByLabel('.env contents').fill(`${key}=value-of-${key}\n`);
      await editor.getByRole('button', { name: 'Apply .env' }).click();
      await page.getByRole('table', { name: label }).getByRole('cell', { name: `value-of-${key}`, exact: true }).waitFor();
    }
    const envVars = await request(t.server).get(`/api/v1/environments/${env.environmentId}/variables`).set(owner.auth).expect(200);
    expect(envVars.body.items.map((v: { key: string; value: string }) => [v.key, v.value])).toEqual([['ENV_ONE', 'value-of-ENV_ONE']]);
  });

  it('a row is edited in place; Cancel leaves the saved value', async () => {
    await page.goto(`/orgs/${orgId}/applications/${appId}/variables`);
    const table = page.getByRole('table', { name: 'Application variables' });
    await table.getByRole('cell', { name: 'one', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit BODY' }).click();
    await page.getByLabel('Value of BODY').fill('not saved');
    await page.getByRole('button', { name: 'Cancel editing BODY' }).click();
    await eventually(() => page.getByLabel('Value of BODY').count(), 0);
    await table.getByRole('cell', { name: 'one', exact: true }).waitFor();
    expect((await appVars()).find((v) => v.key === 'BODY')?.value).toBe('one');
  });

  it('Settings show the effective update order and why it is not the chosen one', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const spec = httpdSpec(port, { update: { parallelism: 1, order: 'start-first', failureAction: 'rollback', monitorMs: 2000 } });
    const other = await request(t.server).post(`/api/v1/environments/${env.environmentId}/applications`).set(owner.auth).send({ name: 'pinned', spec }).expect(201);
    await page.goto(`/orgs/${orgId}/applications/${other.body.id}/settings`);
    const note = page.getByRole('note', { name: 'Effective update order' });
    await note.getByText('Chosen update order: start-first.', { exact: false }).waitFor();
    await eventually(() => note.getByTestId('effective-update-order').textContent(), 'stop-first');
    await note.getByText(`publishes host-mode port ${port}/tcp on a single node`, { exact: false }).waitFor();
    await check(page, 'settings-effective-order');
  });

  it('the running deployment differing from the saved configuration shows a banner; Redeploy applies it; a rollback shows it again', async () => {
    const first = await request(t.server).post(`/api/v1/applications/${appId}/deployments`).set(owner.auth).send({ kind: 'deploy' }).expect(202);
    expect((await waitForDeployment(t, owner, first.body.id)).status).toBe('succeeded');
    await page.goto(`/orgs/${orgId}/applications/${appId}/variables`);
    const table = page.getByRole('table', { name: 'Application variables' });
    await table.getByRole('cell', { name: 'one', exact: true }).waitFor();
    // The status (with the comparison) has loaded: nothing differs yet.
    await page.getByRole('tab', { name: 'Deployments' }).waitFor();
    await eventually(async () => (await request(t.server).get(`/api/v1/applications/${appId}/status`).set(owner.auth)).body.configuration?.differs, false);
    await expect(banner().count()).resolves.toBe(0);

    await page.getByRole('button', { name: 'Edit BODY' }).click();
    await page.getByLabel('Value of BODY').fill('two');
    await page.getByRole('button', { name: 'Save BODY' }).click();
    await table.getByRole('cell', { name: 'two', exact: true }).waitFor();
    await banner().getByText('variables.BODY').waitFor({ timeout: 10_000 });
    expect(await banner().textContent()).not.toContain('two');
    await check(page, 'variables-drift-banner');

    await banner().getByRole('button', { name: 'Redeploy to apply' }).click();
    await eventually(() => banner().count(), 0, 60_000);
    const list = await request(t.server).get(`/api/v1/applications/${appId}/deployments`).set(owner.auth).expect(200);
    expect(list.body.items[0]).toMatchObject({ kind: 'deploy', status: 'succeeded' });

    const back = await request(t.server).post(`/api/v1/deployments/${first.body.id}/rollback`).set(owner.auth).expect(202);
    expect((await waitForDeployment(t, owner, back.body.id)).status).toBe('succeeded');
    await banner().getByText('variables.BODY').waitFor({ timeout: 10_000 });
    await banner().getByText('(a rollback)', { exact: false }).waitFor();
    const status = await request(t.server).get(`/api/v1/applications/${appId}/status`).set(owner.auth).expect(200);
    expect(status.body.configuration).toEqual({ differs: true, changed: ['variables.BODY'], deploymentId: back.body.id, deploymentKind: 'rollback' });
  });
});
