import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'data/**', 'test-artifacts/**', 'nodes/**/*.html'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The HTTP pages' scripts run in the browser.
    files: ['http/assets/**/*.js'],
    languageOptions: { globals: { document: 'readonly', window: 'readonly', fetch: 'readonly' } },
  },
  {
    // The dashboard pages' shared code runs in the browser, copied into each page by dashboards/build.mjs:
    // its mixins may use only `this`, their arguments and browser globals, nothing else of the module.
    files: ['dashboards/lib/**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(['window', 'document', 'URL', 'Blob', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'fetch', 'URLSearchParams', 'XMLHttpRequest', 'crypto'].map((g) => [g, 'readonly'])),
    },
    rules: {
      'no-undef': 'error',
      // `const { asset: _a, ...rest } = query` drops a key.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
      'no-restricted-syntax': ['error', { selector: 'Program > :not(ExportNamedDeclaration)', message: 'dashboards/lib: export the mixin object and keep everything inside it (the browser gets only its members).' }],
    },
  },
  {
    // core/ is the domain: no Node-RED and no HTTP (DESIGN.md).
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node-red*', '@node-red/*', 'express', 'http', 'node:http', 'https', 'node:https', '@flowfuse/*'] }],
    },
  },
);
