export * from './permissions';
export * from './events';
export * from './jobs';
export * from './applications';
export * from './problem';
export * from './live-events';
export * from './dns-providers';
export * from './git-source';
