import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Commands and queries are typed (`extends Command<Result>` / `Query<Result>` from @nestjs/cqrs), so the bus returns
 * what the handler declares and a controller's use of the result is checked by the compiler. These tests keep it so:
 * the sources are scanned for every class registered with @CommandHandler/@QueryHandler, and the lint rule that
 * guards new code (eslint.config.mjs) is shown to reject an untyped command.
 */
const root = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.spec.ts') ? [path] : [];
  });
}

describe('typed commands and queries', () => {
  it('every class registered with @CommandHandler/@QueryHandler in libs/*/src extends Command<T>/Query<T>', () => {
    const libs = readdirSync(join(root, 'libs'), { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(root, 'libs', e.name, 'src'));
    const files = libs.flatMap((dir) => sources(dir)).map((path) => ({ path: relative(root, path), text: readFileSync(path, 'utf8') }));
    const all = files.map((f) => f.text).join('\n');
    const registered = files.flatMap((f) => [...f.text.matchAll(/@(Command|Query)Handler\((\w+)\)/g)].map((m) => ({ kind: m[1], name: m[2], file: f.path })));
    expect(registered.length).toBeGreaterThan(70);
    const untyped = registered.filter(({ kind, name }) => !new RegExp(`class ${name} extends ${kind}<[^>]`).test(all)).map((r) => `${r.file}: ${r.name}`);
    expect(untyped).toEqual([]);
  });

  it('the lint rule rejects an untyped command, a query without its result type and a result stated on the handler', () => {
    const sample = [
      "import { Command, CommandHandler, ICommandHandler, Query } from '@nestjs/cqrs';",
      'export class PlainCommand {',
      '  constructor(readonly id: string) {}',
      '}',
      'export class BareQuery extends Query {}',
      '@CommandHandler(PlainCommand)',
      'export class PlainHandler implements ICommandHandler<PlainCommand, string> {',
      '  async execute() {',
      "    return 'x';",
      '  }',
      '}',
      'export class TypedCommand extends Command<string> {}',
      '',
    ].join('\n');
    const run = spawnSync(process.execPath, [join(root, 'node_modules', 'eslint', 'bin', 'eslint.js'), '--stdin', '--stdin-filename', 'libs/projects/src/sample.commands.ts', '--format', 'json'], { cwd: root, input: sample, encoding: 'utf8', timeout: 50_000 });
    const [result] = JSON.parse(run.stdout) as Array<{ messages: Array<{ ruleId: string | null; line: number; message: string }> }>;
    const found = result.messages.filter((m) => m.ruleId === 'no-restricted-syntax').map((m) => `${m.line}: ${m.message}`);
    expect(found).toEqual([
      '2: A command extends Command<Result> from @nestjs/cqrs (Result = what its handler returns).',
      '5: State the result type: extends Command<Result> / Query<Result>.',
      '7: The result type belongs on the command/query (extends Command<Result>); a second type argument here is ignored.',
    ]);
  });
});
