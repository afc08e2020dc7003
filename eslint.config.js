// typescript-eslint's recommended rules (syntax only, so that `npm test` stays fast on two cores),
// plus the few choices of this codebase; Prettier owns the formatting.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '**/*.js', '**/*.cjs', '.tsplay-tmp/**', 'test/**/fixtures/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // unused names are errors, except those marked unused on purpose with a leading underscore
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // control characters are what the terminal and ssh code mean to match
      'no-control-regex': 'off',
    },
  },
  {
    // tests read JSON results and module outputs by key; typing each would say nothing more
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
