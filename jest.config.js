// Test names say their reach: *.unit.spec.ts (pure), *.int.spec.ts (real SQLite file, real Kafka),
// *.e2e.spec.ts (the app over HTTP). Aliases match tsconfig.base.json.
const common = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  moduleNameMapper: { '^@spoc/([a-z-]+)$': '<rootDir>/libs/$1/src' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
};

module.exports = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.unit.spec.ts', '<rootDir>/tools/**/*.unit.spec.ts'] },
    { ...common, displayName: 'int', testMatch: ['<rootDir>/{apps,libs}/**/*.int.spec.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e.spec.ts', '<rootDir>/{apps,libs}/**/*.e2e.spec.ts'] },
  ],
};
