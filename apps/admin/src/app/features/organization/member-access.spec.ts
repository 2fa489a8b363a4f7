import type { Environment, Project } from '../../core/api/api-types';
import { accessBody, accessChoiceOf, accessSummary, ProjectNode } from './member-access';

const project = (id: string, name: string): Project => ({ id, organizationId: 'o', name, slug: name, description: '', createdAt: '', updatedAt: '', version: 1 });
const env = (id: string, projectId: string, name: string): Environment => ({ id, organizationId: 'o', projectId, name, slug: name, createdAt: '', updatedAt: '', version: 1 });
const tree: ProjectNode[] = [
  { project: project('p1', 'shop'), environments: [env('e1', 'p1', 'production'), env('e2', 'p1', 'staging')] },
  { project: project('p2', 'blog'), environments: [env('e3', 'p2', 'production')] },
];

describe('member access limits', () => {
  it('starts from the member: no limits = whole organization', () => {
    expect(accessChoiceOf({ role: 'developer', customRoleId: null, projectIds: null, environmentIds: null }, 'developer')).toEqual({ role: 'developer', mode: 'all', projectIds: [], environmentIds: [] });
    expect(accessChoiceOf({ role: 'custom', customRoleId: 'r1', projectIds: null, environmentIds: ['e3'] }, 'custom:r1')).toEqual({ role: 'custom:r1', mode: 'limited', projectIds: [], environmentIds: ['e3'] });
  });

  it('sends null limits for the whole organization', () => {
    expect(accessBody({ role: 'viewer', mode: 'all', projectIds: ['p1'], environmentIds: ['e3'] }, tree)).toEqual({ role: 'viewer', projectIds: null, environmentIds: null });
  });

  it('sends chosen projects and environments, dropping environments inside a chosen project', () => {
    expect(accessBody({ role: 'custom:r1', mode: 'limited', projectIds: ['p1', 'p1'], environmentIds: ['e2', 'e3'] }, tree)).toEqual({
      role: 'custom', customRoleId: 'r1', projectIds: ['p1'], environmentIds: ['e3'],
    });
    expect(accessBody({ role: 'developer', mode: 'limited', projectIds: ['p1'], environmentIds: ['e1'] }, tree)).toEqual({ role: 'developer', projectIds: ['p1'], environmentIds: null });
    expect(accessBody({ role: 'developer', mode: 'limited', projectIds: [], environmentIds: [] }, tree)).toEqual({ role: 'developer', projectIds: [], environmentIds: null });
  });

  it('summarises limits by name, or by count before the projects are known', () => {
    expect(accessSummary({ projectIds: null, environmentIds: null }, tree)).toBe('All projects');
    expect(accessSummary({ projectIds: ['p1'], environmentIds: ['e3'] }, tree)).toBe('shop; blog/production');
    expect(accessSummary({ projectIds: ['p1', 'p2'], environmentIds: null }, null)).toBe('2 projects');
    expect(accessSummary({ projectIds: [], environmentIds: null }, tree)).toBe('No projects');
    expect(accessSummary({ projectIds: ['gone'], environmentIds: null }, tree)).toBe('deleted project');
  });
});
