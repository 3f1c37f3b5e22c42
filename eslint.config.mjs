import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // dashboards/src/shared.js is a fragment of Vue component methods, spliced into each page by build.mjs.
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', 'data/**', 'test-artifacts/**', 'nodes/**/*.html', 'dashboards/src/shared.js'] },
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
    // core/ is the domain: no Node-RED and no HTTP (DESIGN.md).
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node-red*', '@node-red/*', 'express', 'http', 'node:http', 'https', 'node:https', '@flowfuse/*'] }],
    },
  },
);
