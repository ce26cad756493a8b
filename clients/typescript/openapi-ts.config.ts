// `npm run generate` (or `scripts/generate` at the repo root, which regenerates every client).
// OPENAPI_TS_INPUT/OUTPUT let `scripts/generate --check` write a fresh copy elsewhere to diff.
import { defineConfig } from '@hey-api/openapi-ts';

export default defineConfig({
  input: process.env.OPENAPI_TS_INPUT || '../../openapi.yaml',
  output: { path: process.env.OPENAPI_TS_OUTPUT || 'src/generated' },
  // schemas: every JSON Schema as a value, so a form can check the published rules (admin/).
  plugins: ['@hey-api/client-fetch', '@hey-api/typescript', '@hey-api/sdk', '@hey-api/schemas'],
});
