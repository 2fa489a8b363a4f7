/**
 * The reverse proxy's configuration store: one file per application (plus shared ones such as the ACME challenge
 * router), addressed by a key derived from ids (`app-<applicationId>`, `acme-challenge`), never by user text.
 * Framework-free; the Traefik file-provider adapter implements it on a directory Traefik watches.
 */

export const PROXY_CONFIG_PORT = Symbol('ProxyConfigPort');

/** A file key: lowercase letters, digits and inner hyphens, at most 120 characters. */
export const PROXY_CONFIG_KEY = /^[a-z0-9](?:[a-z0-9-]{0,118}[a-z0-9])?$/;

export interface ProxyConfigWriteResult {
  /** False when the file already had exactly this content (nothing was written, Traefik sees no event). */
  changed: boolean;
}

export interface ProxyConfigPort {
  /** Replaces the file of `key` with `content`, atomically, and only if its content differs. */
  write(key: string, content: string): Promise<ProxyConfigWriteResult>;
  /** Removes the file of `key`; false when there was none. */
  remove(key: string): Promise<boolean>;
  /** The keys of the files this install owns, sorted. */
  list(): Promise<string[]>;
  /** The current content of `key`'s file, or null. */
  read(key: string): Promise<string | null>;
}
