import { pack as tarPack, type Headers } from 'tar-stream';

/** One tar entry: its header fields and, for a file, its body. */
export type TarEntry = Partial<Headers> & { name: string; body?: string | Buffer };

/** A tar built entry by entry with tar-stream (names written as given: hostile ones included). */
export async function tarOf(entries: TarEntry[]): Promise<Buffer> {
  const p = tarPack();
  const chunks: Buffer[] = [];
  p.on('data', (c: Buffer) => chunks.push(c));
  const ended = new Promise((r) => p.on('end', r));
  for (const { body, ...h } of entries) {
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve());
      if (body !== undefined) p.entry(h as Headers, body, cb);
      else p.entry(h as Headers, cb);
    });
  }
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}
