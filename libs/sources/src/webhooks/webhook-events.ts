/**
 * A verified delivery's payload, read into one shape whatever the provider: a push (branch or tag, the new commit,
 * the head commit's message and author, the changed files when the provider lists them), a pull/merge request
 * (opened, updated, closed, reopened; head and base, whether it comes from a fork), a ping, or something Wharf ignores
 * (with the reason, recorded on the delivery). Payloads are untrusted JSON: every field is checked for its type, and a
 * malformed payload is "ignored: malformed" rather than an exception.
 */
import picomatch from 'picomatch';
import { isCommitId } from '@wharf/contracts';
import type { WebhookProvider } from './webhook-signatures';

export interface CommitInfo {
  sha: string;
  message: string | null;
  authorName: string | null;
  authorEmail: string | null;
  timestamp: string | null;
}

export type WebhookEvent =
  | { kind: 'ping' }
  | {
      kind: 'push';
      /** The full ref (`refs/heads/main`, `refs/tags/v1`). */
      ref: string;
      branch: string | null;
      tag: string | null;
      /** The commit the ref points to now (null when the ref was deleted). */
      commit: string | null;
      deleted: boolean;
      head: CommitInfo | null;
      /** Files added, modified or removed by the pushed commits; null when the provider does not say (Bitbucket). */
      changedFiles: string[] | null;
    }
  | {
      kind: 'pull-request';
      action: 'opened' | 'updated' | 'closed' | 'reopened' | 'other';
      number: number;
      merged: boolean;
      headRef: string;
      headSha: string;
      baseRef: string;
      /** The head branch lives in another repository (a fork): never deployed without an approval. */
      fromFork: boolean;
      author: string | null;
      /** GitHub's author_association (OWNER, MEMBER, COLLABORATOR, CONTRIBUTOR, …) when sent. */
      authorAssociation: string | null;
      title: string | null;
    }
  | { kind: 'ignored'; reason: string };

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | null => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : null);
const str = (v: unknown, max = 4096): string | null => (typeof v === 'string' && v.length <= max ? v : null);
const sha = (v: unknown): string | null => (isCommitId(v) ? (v as string) : null);
const ZERO_SHA = /^0+$/;
const malformed = (what: string): WebhookEvent => ({ kind: 'ignored', reason: `malformed payload: ${what}` });

function refParts(ref: string): { branch: string | null; tag: string | null } {
  if (ref.startsWith('refs/heads/')) return { branch: ref.slice(11), tag: null };
  if (ref.startsWith('refs/tags/')) return { branch: null, tag: ref.slice(10) };
  return { branch: null, tag: null };
}

/** added/modified/removed of every commit, de-duplicated; null when any commit lacks the lists. */
function changedFilesOf(commits: unknown): string[] | null {
  if (!Array.isArray(commits)) return null;
  const files = new Set<string>();
  for (const c of commits) {
    const o = obj(c);
    if (!o) return null;
    for (const k of ['added', 'modified', 'removed']) {
      const list = o[k];
      if (!Array.isArray(list)) return null;
      for (const f of list) if (typeof f === 'string' && f.length <= 4096) files.add(f);
    }
  }
  return [...files];
}

function commitInfo(c: unknown, idKey = 'id'): CommitInfo | null {
  const o = obj(c);
  const id = o ? sha(o[idKey]) : null;
  if (!o || !id) return null;
  const author = obj(o.author);
  return { sha: id, message: str(o.message, 65536), authorName: author ? str(author.name, 500) : null, authorEmail: author ? str(author.email, 500) : null, timestamp: str(o.timestamp, 100) };
}

/** GitHub and Gitea/Forgejo send the same push and pull_request shapes (Gitea's action names differ slightly). */
function githubLike(event: string, p: Obj): WebhookEvent {
  if (event === 'ping') return { kind: 'ping' };
  if (event === 'push') {
    const ref = str(p.ref, 1024);
    if (!ref) return malformed('ref');
    const after = str(p.after, 64);
    const deleted = p.deleted === true || (!!after && ZERO_SHA.test(after));
    // An annotated tag's push names the tag object in `after`; the commit it points at is the head commit.
    const head = commitInfo(p.head_commit);
    const isTag = ref.startsWith('refs/tags/');
    const commit = deleted ? null : isTag && head ? head.sha : sha(p.after);
    if (!deleted && !commit) return malformed('after');
    return { kind: 'push', ref, ...refParts(ref), commit, deleted, head, changedFiles: deleted ? [] : changedFilesOf(p.commits) };
  }
  if (event === 'pull_request') {
    const pr = obj(p.pull_request);
    const head = obj(pr?.head);
    const base = obj(pr?.base);
    const number = typeof p.number === 'number' ? p.number : typeof pr?.number === 'number' ? pr.number : null;
    const headRef = str(head?.ref, 1024);
    const headSha = sha(head?.sha);
    const baseRef = str(base?.ref, 1024);
    if (!pr || number === null || !Number.isInteger(number) || !headRef || !headSha || !baseRef) return malformed('pull_request');
    const headRepo = obj(head!.repo);
    const baseRepo = obj(base!.repo);
    const headName = str(headRepo?.full_name, 500);
    const baseName = str(baseRepo?.full_name, 500);
    // A fork when GitHub says so, or when the head repository is another one (or unknown: a deleted fork).
    const fromFork = headRepo?.fork === true || !headName || !baseName || headName !== baseName;
    const a = str(p.action, 100);
    const action = a === 'opened' ? 'opened' : a === 'synchronize' || a === 'synchronized' || a === 'edited' ? 'updated' : a === 'closed' ? 'closed' : a === 'reopened' ? 'reopened' : 'other';
    return {
      kind: 'pull-request', action, number, merged: pr.merged === true, headRef, headSha, baseRef, fromFork,
      author: str(obj(pr.user)?.login, 200), authorAssociation: str(pr.author_association, 50), title: str(pr.title, 1000),
    };
  }
  return { kind: 'ignored', reason: `event "${event}" is not used` };
}

function gitlab(event: string, p: Obj): WebhookEvent {
  const kind = str(p.object_kind, 50);
  if (event === 'Push Hook' || event === 'Tag Push Hook' || kind === 'push' || kind === 'tag_push') {
    const ref = str(p.ref, 1024);
    if (!ref) return malformed('ref');
    const after = str(p.after, 64);
    const deleted = !!after && ZERO_SHA.test(after);
    const commit = deleted ? null : sha(p.checkout_sha) ?? sha(p.after);
    if (!deleted && !commit) return malformed('checkout_sha');
    const commits = Array.isArray(p.commits) ? p.commits : [];
    const head = commits.map((c) => commitInfo(c)).find((c) => c?.sha === commit) ?? null;
    // GitLab lists at most 20 commits; with more, the file list is incomplete.
    const total = typeof p.total_commits_count === 'number' ? p.total_commits_count : commits.length;
    return { kind: 'push', ref, ...refParts(ref), commit, deleted, head, changedFiles: deleted ? [] : total > commits.length ? null : changedFilesOf(commits) };
  }
  if (event === 'Merge Request Hook' || kind === 'merge_request') {
    const a = obj(p.object_attributes);
    const number = a?.iid;
    const headRef = str(a?.source_branch, 1024);
    const baseRef = str(a?.target_branch, 1024);
    const headSha = sha(obj(a?.last_commit)?.id);
    if (!a || typeof number !== 'number' || !Number.isInteger(number) || !headRef || !baseRef || !headSha) return malformed('object_attributes');
    const act = str(a.action, 50);
    const action = act === 'open' ? 'opened' : act === 'update' ? 'updated' : act === 'close' || act === 'merge' ? 'closed' : act === 'reopen' ? 'reopened' : 'other';
    const fromFork = typeof a.source_project_id !== 'number' || a.source_project_id !== a.target_project_id;
    return {
      kind: 'pull-request', action, number, merged: act === 'merge' || a.state === 'merged', headRef, headSha, baseRef, fromFork,
      author: str(obj(p.user)?.username, 200), authorAssociation: null, title: str(a.title, 1000),
    };
  }
  return { kind: 'ignored', reason: `event "${event}" is not used` };
}

function bitbucket(event: string, p: Obj): WebhookEvent {
  if (event === 'repo:push') {
    const changes = obj(p.push)?.changes;
    if (!Array.isArray(changes) || changes.length === 0) return malformed('push.changes');
    // One delivery may carry several ref changes; Wharf acts on the last one (callers match the tracked branch first).
    const ch = obj(changes[changes.length - 1]);
    const next = obj(ch?.new);
    const old = obj(ch?.old);
    const target = obj(next?.target);
    if (!next) {
      const name = str(old?.name, 1024);
      if (!name) return malformed('push.changes[].old');
      const ref = old?.type === 'tag' ? `refs/tags/${name}` : `refs/heads/${name}`;
      return { kind: 'push', ref, ...refParts(ref), commit: null, deleted: true, head: null, changedFiles: [] };
    }
    const name = str(next.name, 1024);
    const commit = sha(target?.hash);
    if (!name || !commit || (next.type !== 'branch' && next.type !== 'tag')) return malformed('push.changes[].new');
    const ref = next.type === 'tag' ? `refs/tags/${name}` : `refs/heads/${name}`;
    const raw = str(obj(target!.author)?.raw, 500);
    const m = raw ? /^(.*?)\s*<([^>]*)>$/.exec(raw) : null;
    return {
      kind: 'push', ref, ...refParts(ref), commit, deleted: false,
      head: { sha: commit, message: str(target!.message, 65536), authorName: m ? m[1] : raw, authorEmail: m ? m[2] : null, timestamp: str(target!.date, 100) },
      changedFiles: null,
    };
  }
  if (event.startsWith('pullrequest:')) {
    const pr = obj(p.pullrequest);
    const source = obj(pr?.source);
    const dest = obj(pr?.destination);
    const headRef = str(obj(source?.branch)?.name, 1024);
    const baseRef = str(obj(dest?.branch)?.name, 1024);
    // Bitbucket sends 12-character commit hashes here: not a full SHA, so the commit is resolved before a preview.
    const short = str(obj(source?.commit)?.hash, 64);
    const number = pr?.id;
    if (!pr || typeof number !== 'number' || !headRef || !baseRef || !short || !/^[0-9a-f]{7,64}$/.test(short)) return malformed('pullrequest');
    const srcRepo = str(obj(source?.repository)?.full_name, 500);
    const dstRepo = str(obj(dest?.repository)?.full_name, 500);
    const what = event.slice('pullrequest:'.length);
    const action = what === 'created' ? 'opened' : what === 'updated' ? 'updated' : what === 'fulfilled' || what === 'rejected' ? 'closed' : 'other';
    return {
      kind: 'pull-request', action, number, merged: what === 'fulfilled', headRef, headSha: short, baseRef, fromFork: !srcRepo || srcRepo !== dstRepo,
      author: str(obj(pr.author)?.nickname, 200) ?? str(obj(pr.author)?.display_name, 200), authorAssociation: null, title: str(pr.title, 1000),
    };
  }
  return { kind: 'ignored', reason: `event "${event}" is not used` };
}

/** The generic webhook: `{ "ref": "refs/heads/main" | "main", "commit"?: "<sha>" }` (no commit: the ref's tip at build time). */
function generic(p: Obj): WebhookEvent {
  const raw = str(p.ref, 1024) ?? str(p.branch, 1024);
  if (!raw) return malformed('ref');
  const ref = raw.startsWith('refs/') ? raw : `refs/heads/${raw}`;
  const commit = p.commit === undefined || p.commit === null ? null : sha(p.commit);
  if (p.commit !== undefined && p.commit !== null && !commit) return malformed('commit');
  return { kind: 'push', ref, ...refParts(ref), commit, deleted: false, head: commit ? { sha: commit, message: null, authorName: null, authorEmail: null, timestamp: null } : null, changedFiles: null };
}

export function parseWebhookEvent(provider: WebhookProvider, event: string, body: Buffer | string): WebhookEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(typeof body === 'string' ? body : body.toString('utf8'));
  } catch {
    return malformed('not JSON');
  }
  const p = obj(payload);
  if (!p) return malformed('not a JSON object');
  switch (provider) {
    case 'github':
    case 'gitea':
      return githubLike(event, p);
    case 'gitlab':
      return gitlab(event, p);
    case 'bitbucket':
      return bitbucket(event, p);
    case 'generic':
      return generic(p);
  }
}

export interface PushFilter {
  /** The tracked branch (exact name). */
  branch: string | null;
  /** Tags that deploy, as globs (`v*`); empty: tags never deploy. */
  tagPatterns?: readonly string[];
  /** Deploy only when a changed file matches one of these globs (relative to the repository root); empty: any change. */
  watchPaths?: readonly string[];
}

/** Whether a push deploys, and why not: the branch or tag, a deletion, or no changed file under the watch paths. */
export function pushDecision(e: Extract<WebhookEvent, { kind: 'push' }>, f: PushFilter): { deploy: true } | { deploy: false; reason: string } {
  if (e.deleted) return { deploy: false, reason: `${e.ref} was deleted` };
  if (e.branch !== null) {
    if (e.branch !== f.branch) return { deploy: false, reason: `branch "${e.branch}" is not the tracked branch${f.branch ? ` "${f.branch}"` : ''}` };
  } else if (e.tag !== null) {
    const patterns = f.tagPatterns ?? [];
    if (!patterns.some((p) => picomatch.isMatch(e.tag!, p, { dot: true }))) return { deploy: false, reason: `tag "${e.tag}" matches no deploying tag pattern` };
  } else {
    return { deploy: false, reason: `${e.ref} is neither a branch nor a tag` };
  }
  const watch = f.watchPaths ?? [];
  if (watch.length > 0 && e.changedFiles !== null) {
    const match = picomatch([...watch], { dot: true });
    if (!e.changedFiles.some((file) => match(file))) return { deploy: false, reason: `no changed file matches the watch paths (${watch.join(', ')})` };
  }
  return { deploy: true };
}
