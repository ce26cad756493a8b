// Builds the admin console into dist/ (or $ADMIN_OUT): one JS and one CSS file named by the
// hash of their content (served with a year-long cache), and index.html naming them. The
// output depends only on the sources and the pinned tools, so `scripts/generate --check` can
// rebuild it elsewhere and compare. Prints what a browser downloads, gzipped, and fails past
// the budget.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.ADMIN_OUT || join(here, 'dist');
const BUDGET_GZIPPED = 150 * 1024;

const result = await esbuild.build({
  entryPoints: [join(here, 'src/main.tsx')],
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  charset: 'utf8',
  write: false,
  outdir: join(here, 'out'),
  entryNames: 'app',
  logLevel: 'warning',
});

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const names = {};
let gzipped = 0;
for (const file of result.outputFiles) {
  const ext = file.path.endsWith('.css') ? 'css' : 'js';
  const hash = createHash('sha256').update(file.contents).digest('hex').slice(0, 12);
  names[ext] = `app-${hash}.${ext}`;
  writeFileSync(join(out, 'assets', names[ext]), file.contents);
  const size = gzipSync(file.contents, { level: 9 }).length;
  gzipped += size;
  console.log(`admin: assets/${names[ext]}  ${file.contents.length} bytes, ${size} gzipped`);
}

const template = readFileSync(join(here, 'index.html'), 'utf8');
const html = template.replace('{{css}}', `/admin/assets/${names.css}`).replace('{{js}}', `/admin/assets/${names.js}`);
writeFileSync(join(out, 'index.html'), html);
gzipped += gzipSync(html, { level: 9 }).length;

console.log(`admin: ${(gzipped / 1024).toFixed(1)} KB gzipped in all (budget ${BUDGET_GZIPPED / 1024} KB)`);
if (gzipped > BUDGET_GZIPPED) {
  console.error('admin: over budget');
  process.exit(1);
}
