import { gitProviderWebhookPath, repositoryKey } from './provider-webhook.commands';

describe('GitHub App webhook: which applications a delivery is for', () => {
  it.each([
    ['https://github.com/Acme/Shop.git', 'github.com/acme/shop'],
    ['https://github.com/acme/shop', 'github.com/acme/shop'],
    ['https://github.com/acme/shop/', 'github.com/acme/shop'],
    ['https://ghe.example.com:8443/team/app.GIT', 'ghe.example.com:8443/team/app'],
  ])('%s is the repository %s', (url, key) => {
    expect(repositoryKey(url)).toBe(key);
  });

  it.each([[undefined], [42], [''], ['not a url'], ['ssh://git@github.com/acme/shop.git'], ['git@github.com:acme/shop.git'], ['https://github.com/'], ['x'.repeat(3000)]])('%p names no repository', (v) => {
    expect(repositoryKey(v)).toBeNull();
  });

  it('another host or owner is another repository', () => {
    expect(repositoryKey('https://github.com/acme/shop.git')).not.toBe(repositoryKey('https://github.example.com/acme/shop.git'));
    expect(repositoryKey('https://github.com/acme/shop.git')).not.toBe(repositoryKey('https://github.com/other/shop.git'));
  });

  it('only GitHub App connections have a webhook', () => {
    expect(gitProviderWebhookPath('github', 'p1')).toBe('/api/v1/webhooks/git-providers/p1/github');
    for (const kind of ['gitlab', 'gitea', 'bitbucket']) expect(gitProviderWebhookPath(kind, 'p1')).toBeNull();
  });
});
