import { readFileSync } from 'node:fs';
import { buildOpenApiDocument, OPENAPI_FILE } from '../../scripts/openapi';

/**
 * The committed openapi.json (the portal's client types are generated from it) must match what the code produces.
 * When this fails after adding or changing routes or DTOs: run `npm run openapi` and commit openapi.json and
 * apps/admin/src/app/core/api/schema.d.ts and api-client.gen.ts.
 */
describe('committed OpenAPI document', () => {
  it('matches the document the code produces (npm run openapi regenerates it)', async () => {
    const produced = await buildOpenApiDocument();
    const committed = readFileSync(OPENAPI_FILE, 'utf8');
    const paths = (text: string) => Object.keys(JSON.parse(text).paths).sort();
    // Compare the route lists first for a readable failure, then the whole document.
    expect(paths(committed)).toEqual(paths(produced));
    expect(JSON.parse(committed)).toEqual(JSON.parse(produced));
  });
});
