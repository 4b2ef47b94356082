// Regenerates the table in docs/errors.md from the built error table: npm run build && node scripts/gen-errors-doc.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { ERROR_CODES } from '../dist/core/error-codes.js';

const file = new URL('../docs/errors.md', import.meta.url);
const doc = readFileSync(file, 'utf8');
const table = [
  '| Code | HTTP | JSON-RPC | OAuth `error` | Message |',
  '| --- | --- | --- | --- | --- |',
  ...Object.entries(ERROR_CODES).map(
    ([code, info]) =>
      `| \`${code}\` | ${info.status} | ${info.rpc} | ${info.oauth ? `\`${info.oauth}\`` : ''} | ${info.message} |`,
  ),
].join('\n');
writeFileSync(
  file,
  doc.replace(/<!-- table:start -->[\s\S]*<!-- table:end -->/, `<!-- table:start -->\n${table}\n<!-- table:end -->`),
);
