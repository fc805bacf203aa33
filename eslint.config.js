import path from 'node:path';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Rooms (src/ folders), lowest first. A file may import its own room's files, and another
// room only through that room's index.ts, and only a room ranked lower than its own: no upward
// or sideways arrows, hence no cycles. Outside src/pipeline the pipeline is one room
// (src/pipeline/index.ts); its stages import each other's doors by rank.
const ROOMS = [
  ['core'],
  ['storage'],
  ['delta'],
  ['engine'],
  ['table'],
  ['pipeline/catalog'],
  ['pipeline/run', 'pipeline/quality'],
  ['pipeline/upstream'],
  ['pipeline/bronze'],
  ['pipeline/silver'],
  ['pipeline/gold'],
  ['pipeline/ops'],
  ['pipeline'],
  ['report'],
  ['cli'],
];
const RANK = new Map(ROOMS.flatMap((names, rank) => names.map((name) => [name, rank])));

const roomsRule = {
  meta: { type: 'problem', schema: [] },
  create(context) {
    const file = path.relative(path.join(import.meta.dirname, 'src'), context.filename).split(path.sep).join('/');
    const from = path.posix.dirname(file);
    if (file.startsWith('..') || !RANK.has(from)) return {};
    const check = (node) => {
      const spec = node.source?.value;
      if (typeof spec !== 'string' || !spec.startsWith('.')) return;
      const target = path.posix.normalize(path.posix.join(from, spec));
      const to = path.posix.dirname(target);
      if (to === from) return;
      const report = (message) => context.report({ node: node.source, message });
      if (!RANK.has(to)) return report(`src/${to} is not a room; add it to ROOMS in eslint.config.js.`);
      if (path.posix.basename(target) !== 'index.js') return report(`Import src/${to} through its door src/${to}/index.ts, not ${path.posix.basename(target)}.`);
      if (to.startsWith('pipeline/') && !from.startsWith('pipeline')) return report(`Outside src/pipeline, import the pipeline through src/pipeline/index.ts.`);
      if (RANK.get(to) >= RANK.get(from)) return report(`src/${from} must not import src/${to}: rooms import only rooms below them (eslint.config.js ROOMS).`);
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.venv/**', 'tables/**', 'scratch/**', 'test/fixtures/**', 'bench-out/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { lake: { rules: { rooms: roomsRule } } },
    rules: { 'lake/rooms': 'error' },
  },
  {
    // Plain Node scripts (bench, installers, child processes).
    files: ['scripts/**/*.{js,mjs}', 'test/**/*.{js,mjs}'],
    languageOptions: {
      globals: Object.fromEntries(
        ['process', 'console', 'performance', 'Buffer', 'URL', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'fetch', 'AbortController', 'structuredClone'].map((g) => [g, 'readonly']),
      ),
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**'],
    rules: { 'no-console': 'error' },
  },
  {
    // CommonJS packages loaded with `require` (an ESM import makes Node scan their sources for
    // named exports at every start): types may be imported, values come from the loader module.
    files: ['src/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: [
            { name: '@duckdb/node-api', allowTypeImports: true, message: 'Take DuckDB values from src/engine/index.ts (loaded with require in src/engine/duckdb.ts); import only types from the package.' },
            { name: 'pino', allowTypeImports: true, message: 'pino is loaded with require in src/core/logger.ts; import only types from the package.' },
            { name: 'commander', allowTypeImports: true, message: 'Take commander values from src/cli/commander.ts (loaded with require); import only types from the package.' },
          ],
        },
      ],
    },
  },
);
