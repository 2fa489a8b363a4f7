// Public surface of the routing lib: domain specs (validation, bcrypt) and the Traefik v3 file-provider renderer.
// Pure: no Nest, no database; the API validates with it and the worker renders and writes through ProxyConfigPort.
export * from './domain-spec';
export * from './basic-auth';
export * from './traefik/traefik-config';
