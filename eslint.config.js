import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // kernels/ is AssemblyScript (function decorators, wasm types): its compiler checks it.
  { ignores: ['node_modules/', 'kernels/', 'bench/.data/', 'scratch/', 'test/jobs/syntax-error.ts', 'test/jobs/type-error.ts', '**/.torpedo/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', setInterval: 'readonly', clearInterval: 'readonly', setImmediate: 'readonly', performance: 'readonly', fetch: 'readonly', AbortSignal: 'readonly', NodeJS: 'readonly', URL: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
);
