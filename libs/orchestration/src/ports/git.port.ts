/**
 * Fetching an application's source from Git. Framework-free; the git-cli adapter implements it by running `git` from
 * argument arrays in a private temporary directory per call. The repository and ref must have passed
 * `validateGitSource` (@wharf/contracts); the adapter checks them again and refuses anything else, so a caller that
 * forgets cannot turn a value into an option or a command.
 */

export const GIT_PORT = Symbol('GitPort');

export type GitCheckoutAuth =
  | { kind: 'none' }
  | { kind: 'token'; username?: string; token: string }
  /**
   * SSH with a deploy key: the OpenSSH private key (PEM, `-----BEGIN OPENSSH PRIVATE KEY-----`) and the host keys the
   * server must present, as known_hosts lines (`host keytype base64`, or `[host]:port …`). An empty list refuses every
   * host: Wharf never trusts a host key on first use behind the user's back.
   */
  | { kind: 'deploy-key'; privateKey: string; knownHosts: string[] };

/** Why a checkout failed, in words a user can act on. */
export type GitFailureReason =
  | 'invalid-input'
  | 'host-refused'
  | 'authentication'
  | 'host-key'
  | 'not-found'
  | 'unreachable'
  | 'timeout'
  | 'too-large'
  | 'aborted'
  | 'submodule'
  | 'other';

export class GitSourceError extends Error {
  constructor(message: string, readonly reason: GitFailureReason) {
    super(message);
    this.name = 'GitSourceError';
  }
}

export interface GitFetchCommon {
  repository: string;
  auth: GitCheckoutAuth;
  /** The whole call (every git process it starts) is killed after this long. */
  deadlineMs: number;
  signal?: AbortSignal;
  /** Progress and error lines, secrets redacted. */
  onLog?: (line: string) => void;
}

export interface GitCheckoutInput extends GitFetchCommon {
  /** A branch, a tag or a full commit id (see `checkGitRef`). */
  ref: string;
  /** When set, exactly this commit is checked out (it must be the ref's tip or reachable from it on the server). */
  commit?: string;
  submodules: boolean;
  /**
   * An empty (or missing) directory the caller owns; the working tree is written there (removed again when the checkout
   * fails). The tree is the repository's: it may hold symbolic links pointing anywhere, so whoever reads files from it
   * (a Dockerfile path, a static site) must not follow links out of it.
   */
  directory: string;
  /** Size limit for everything written to `directory` (objects and working tree). */
  maxBytes: number;
}

export interface GitCommitInfo {
  commit: string;
  /** The full message, at most 64 KiB. */
  message: string;
  author: string;
  authorEmail: string;
  /** ISO 8601 */
  committedAt: string;
}

export interface GitResolveRefInput extends GitFetchCommon {
  ref: string;
}

export interface GitScanHostKeysInput {
  /** An SSH repository (`ssh://…` or `user@host:path`). */
  repository: string;
  deadlineMs: number;
  signal?: AbortSignal;
}

export interface GitPort {
  /** Shallow fetch of the ref (or commit) and checkout into `directory`. */
  checkout(input: GitCheckoutInput): Promise<GitCommitInfo>;
  /** The commit a branch or tag points at on the server (`git ls-remote`); null when the ref does not exist. */
  resolveRef(input: GitResolveRefInput): Promise<string | null>;
  /**
   * The SSH server's host keys as known_hosts lines (`ssh-keyscan`), for a user to confirm (by fingerprint) when a
   * deploy-key source is set up; what they confirm is what `checkout` later requires. Never trusted implicitly.
   */
  scanHostKeys(input: GitScanHostKeysInput): Promise<string[]>;
}
