import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Layering (DESIGN.md): core → storage → delta/engine → ingest/quality → lake → cli.
// A lower layer never imports a higher one.
const layers = ['core', 'storage', 'delta', 'engine', 'ingest', 'quality', 'lake', 'cli'];
const higher = {
  core: ['storage', 'delta', 'engine', 'ingest', 'quality', 'lake', 'cli'],
  storage: ['delta', 'engine', 'ingest', 'quality', 'lake', 'cli'],
  delta: ['ingest', 'quality', 'lake', 'cli'],
  engine: ['ingest', 'quality', 'lake', 'cli'],
  ingest: ['lake', 'cli'],
  quality: ['lake', 'cli'],
  lake: ['cli'],
  cli: [],
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
  ...layers.map((layer) => ({
    files: [`src/${layer}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: higher[layer].map((h) => ({
            group: [`../${h}/*`, `../${h}`, `../../${h}/*`],
            message: `src/${layer} must not import the higher layer src/${h} (DESIGN.md module layers).`,
          })),
        },
      ],
    },
  })),
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
);
