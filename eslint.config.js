// ESLint flat config. Run with `npm run lint` (fails on any problem, warnings included).
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// Only these source folders are linted. Root files (vitest.config.ts, this file) are not.
const DIRS = '{bin,lib,lambdas,local,cli,chaos,bench,tools,test,packages}';
const TS_FILES = [`${DIRS}/**/*.ts`];
const MJS_FILES = [`${DIRS}/**/*.mjs`];

// Test runner objects whose `.only`/`.skip`/`.todo` must not be committed.
const RUNNERS = '/^(describe|it|test|suite|bench)$/';
const MODIFIERS = '/^(only|skip|todo)$/';

export default defineConfig(
  globalIgnores(['**/node_modules/', '**/cdk.out/', '**/.local/', '**/dist/', '**/coverage/']),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  // Rules for every linted file (TypeScript and plain .mjs).
  {
    files: [...TS_FILES, ...MJS_FILES],
    extends: [js.configs.recommended, tseslint.configs.recommended],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: globals.node,
    },
    rules: {
      'no-console': 'off',
      eqeqeq: ['error', 'always'],
      // A `let` read by a closure before its one assignment (a shutdown hook) cannot be a const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      '@typescript-eslint/no-non-null-assertion': 'off',

      // Unused imports are unused variables: this rule reports both.
      'no-unused-vars': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          vars: 'all',
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrors: 'all',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],

      // Focused and skipped tests: it.only, describe.skip, test.todo, test.concurrent.only, it.only.each, xit, fit ...
      'no-restricted-syntax': [
        'error',
        {
          selector: `MemberExpression[property.name=${MODIFIERS}]:matches([object.name=${RUNNERS}], [object.object.name=${RUNNERS}])`,
          message: 'Focused, skipped or todo tests (.only/.skip/.todo) must not be committed.',
        },
        {
          selector: 'CallExpression[callee.name=/^[xf](it|test|describe)$/]',
          message: 'Focused or skipped tests (xit/fit/xdescribe/fdescribe/xtest/ftest) must not be committed.',
        },
      ],
    },
  },

  // TypeScript files: typed linting through tsconfig.json.
  {
    files: TS_FILES,
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { prefer: 'type-imports', fixStyle: 'separate-type-imports', disallowTypeAnnotations: true },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
    },
  },

  // Tests walk CloudFormation JSON and API bodies of arbitrary shape.
  {
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },

  // Plain JavaScript (.mjs) is not part of tsconfig.json, so it gets no type information.
  {
    files: MJS_FILES,
    extends: [tseslint.configs.disableTypeChecked],
  },
);
