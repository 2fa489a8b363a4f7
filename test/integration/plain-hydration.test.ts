/**
 * Lists skip TypeORM's generic hydration for plain selects of one entity (manyOf in libs/projects/src/common/helpers.ts).
 * The entities must be exactly those getMany() builds: same class, properties, values and types (dates as Date, nulls
 * kept), for every entity a list reads; selects that are not plain (a join, a partial select) go through getMany().
 */
import request from 'supertest';
import { DataSource, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { startTestApp, TestApp } from '../support/app';
import { setupOwner } from '../support/api';
import { manyOf } from '../../libs/projects/src/common/helpers';
import { ProjectEntity } from '../../libs/projects/src/entities/project.entity';
import { EnvironmentEntity } from '../../libs/projects/src/entities/environment.entity';
import { VariableEntity } from '../../libs/projects/src/entities/variable.entity';

describe('plain hydration of list rows', () => {
  let t: TestApp;
  let ds: DataSource;
  let org: string;

  beforeAll(async () => {
    t = await startTestApp();
    ds = t.app.get(DataSource);
    const owner = await setupOwner(t);
    org = owner.organizationId;
    for (const name of ['Alpha', 'Beta']) {
      const p = await request(t.server).post(`/api/v1/organizations/${org}/projects`).set(owner.auth).send({ name, description: `about ${name}` }).expect(201);
      await request(t.server).put(`/api/v1/projects/${p.body.id}/variables`).set(owner.auth).send({ key: 'PLAIN', value: 'v' }).expect((r) => expect(r.status).toBeLessThan(300));
      await request(t.server).put(`/api/v1/projects/${p.body.id}/variables`).set(owner.auth).send({ key: 'HIDDEN', value: 's', secret: true }).expect((r) => expect(r.status).toBeLessThan(300));
      await request(t.server).put(`/api/v1/environments/${p.body.environments[0].id}/variables`).set(owner.auth).send({ key: 'ENV_ONLY', value: 'e' }).expect((r) => expect(r.status).toBeLessThan(300));
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  async function same<T extends ObjectLiteral>(make: () => SelectQueryBuilder<T>, expectedRows: number, plain = true): Promise<T[]> {
    const qb = make();
    const generic = jest.spyOn(qb, 'getMany');
    const fast = await manyOf(qb);
    expect(generic).toHaveBeenCalledTimes(plain ? 0 : 1);
    const slow = await make().getMany();
    expect(fast.length).toBe(expectedRows);
    expect(fast).toStrictEqual(slow);
    fast.forEach((x, i) => {
      expect(Object.getPrototypeOf(x)).toBe(Object.getPrototypeOf(slow[i]));
      expect(Object.keys(x).sort()).toEqual(Object.keys(slow[i]).sort());
    });
    return fast;
  }

  it('projects, environments and variables come out as getMany() builds them', async () => {
    const projects = await same(() => ds.createQueryBuilder(ProjectEntity, 'x').where('x.organization_id = :org', { org }).orderBy('x.name'), 2);
    expect(projects[0]).toBeInstanceOf(ProjectEntity);
    expect(projects[0].createdAt).toBeInstanceOf(Date);
    expect(typeof projects[0].version).toBe('number');
    await same(() => ds.createQueryBuilder(EnvironmentEntity, 'e').where('e.organization_id = :org', { org }).orderBy('e.name').addOrderBy('e.id'), 2);
    const variables = await same(() => ds.createQueryBuilder(VariableEntity, 'v').where('v.organization_id = :org', { org }).orderBy('v.key').addOrderBy('v.id'), 6);
    expect(variables.some((v) => v.environmentId === null)).toBe(true);
    expect(variables.some((v) => v.value === null)).toBe(true);
  });

  it('a join or a partial select goes through getMany()', async () => {
    const joined = () => ds.createQueryBuilder(EnvironmentEntity, 'e').innerJoinAndMapOne('e.project', ProjectEntity, 'p', 'p.id = e.project_id').where('e.organization_id = :org', { org }).orderBy('e.id');
    const viaJoin = await same(joined, 2, false);
    expect((viaJoin[0] as EnvironmentEntity & { project?: ProjectEntity }).project).toBeInstanceOf(ProjectEntity);
    const partial = await same(() => ds.createQueryBuilder(ProjectEntity, 'x').select(['x.id', 'x.name']).where('x.organization_id = :org', { org }).orderBy('x.id'), 2, false);
    expect(partial[0]).toMatchObject({ id: expect.any(String), name: expect.any(String), slug: undefined, createdAt: undefined });
  });
});
