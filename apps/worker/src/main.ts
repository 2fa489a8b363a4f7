/* Worker-only entry point: same build, WHARF_ROLE=worker. */
process.env.WHARF_ROLE = 'worker';
// eslint-disable-next-line @typescript-eslint/no-require-imports
require('../../api/src/main');
