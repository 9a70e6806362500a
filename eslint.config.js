// Lint: typescript-eslint's recommended rules plus the type-aware ones that catch the bugs a
// pool is most exposed to (floating and misused promises).
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // examples/ import the package by its name and are type-checked as a consumer would (test/integration/consumer.test.ts).
  { ignores: ['node_modules/', 'dist/', 'bench/out/', 'coverage/', 'examples/'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/no-explicit-any': 'error',
      'no-console': 'off',
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);
