import type { Environment, Member, Project, UpdateMemberBody } from '../../core/api/api-types';
import { roleBody } from './organization-api.service';

/** A project with its environments: what a member's access can be limited to. */
export interface ProjectNode {
  project: Project;
  environments: Environment[];
}

export type AccessMode = 'all' | 'limited';

export interface AccessChoice {
  role: string;
  mode: AccessMode;
  projectIds: string[];
  environmentIds: string[];
}

/** The editor's starting point for a member. */
export function accessChoiceOf(m: Pick<Member, 'role' | 'customRoleId' | 'projectIds' | 'environmentIds'>, role: string): AccessChoice {
  const limited = m.projectIds !== null || m.environmentIds !== null;
  return { role, mode: limited ? 'limited' : 'all', projectIds: [...(m.projectIds ?? [])], environmentIds: [...(m.environmentIds ?? [])] };
}

/**
 * PATCH /organizations/{orgId}/members/{userId}: the role plus either no limits (null, null) or the chosen projects
 * (every environment inside them) and environments. Environments inside a chosen project add nothing and are dropped.
 */
export function accessBody(c: AccessChoice, tree: ProjectNode[]): UpdateMemberBody {
  const role = roleBody(c.role);
  if (c.mode === 'all') return { ...role, projectIds: null, environmentIds: null };
  const projectIds = [...new Set(c.projectIds)];
  const inChosen = new Set(tree.filter((n) => projectIds.includes(n.project.id)).flatMap((n) => n.environments.map((e) => e.id)));
  const environmentIds = [...new Set(c.environmentIds)].filter((id) => !inChosen.has(id));
  return { ...role, projectIds, environmentIds: environmentIds.length ? environmentIds : null };
}

/** "All projects", or the projects and environments a member is limited to, by name where known. */
export function accessSummary(m: Pick<Member, 'projectIds' | 'environmentIds'>, tree: ProjectNode[] | null): string {
  if (m.projectIds === null && m.environmentIds === null) return 'All projects';
  const projects = new Map((tree ?? []).map((n) => [n.project.id, n.project.name]));
  const envs = new Map((tree ?? []).flatMap((n) => n.environments.map((e) => [e.id, `${n.project.name}/${e.name}`] as const)));
  const parts: string[] = [];
  const p = m.projectIds ?? [];
  const e = m.environmentIds ?? [];
  if (p.length) parts.push(tree ? p.map((id) => projects.get(id) ?? 'deleted project').join(', ') : `${p.length} project${p.length === 1 ? '' : 's'}`);
  if (e.length) parts.push(tree ? e.map((id) => envs.get(id) ?? 'deleted environment').join(', ') : `${e.length} environment${e.length === 1 ? '' : 's'}`);
  return parts.length ? parts.join('; ') : 'No projects';
}
