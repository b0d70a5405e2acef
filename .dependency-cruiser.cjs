/**
 * The layer rule (docs/architecture.md), checked by `npm test` through dependency-cruiser. Data flows one way:
 * features → steps → tsm → (MNO gateway) → drivers → simulator or card; gp/ and trace/ are shared by all and
 * depend on nothing of the project. Violations present when the rule was introduced are listed in
 * .dependency-cruiser-known-violations.json and are being removed; any other violation fails the run.
 */
const layer = (name, allowed) => ({
  name: `${name}-imports-only-${allowed.join('-') || 'itself'}`,
  comment: `${name}/ may import ${allowed.length ? allowed.map((a) => `${a}/`).join(', ') : 'nothing of the project'} (and itself)`,
  severity: 'error',
  // Tests and conformance suites compose parts of several layers on purpose.
  from: { path: `^${name}/`, pathNot: '\\.(test|conformance)\\.ts$' },
  to: {
    path: '^(gp|trace|decode|simulator|tsm|drivers|viewer|reports|profiles|harness|steps|bin|test|bench|features)/',
    pathNot: [`^${name}/`, ...allowed.map((a) => `^${a}/`)],
  },
});

module.exports = {
  forbidden: [
    layer('gp', []),
    layer('trace', []),
    layer('profiles', ['gp']),
    layer('simulator', ['gp', 'trace', 'profiles']),
    layer('drivers', ['gp', 'trace', 'profiles']),
    layer('tsm', ['gp', 'trace', 'profiles', 'drivers']),
    layer('harness', ['gp', 'trace', 'decode', 'profiles', 'simulator', 'drivers', 'tsm', 'reports']),
    layer('decode', ['gp', 'trace']),
    layer('viewer', ['gp', 'trace', 'decode']),
    layer('reports', ['gp', 'trace', 'decode']),
    {
      name: 'other-folders-through-index',
      comment:
        "a folder is reached through its index.ts (its public surface); drivers' PC/SC modules are a second, optional surface loaded on demand so that pcsclite stays optional",
      severity: 'error',
      from: { path: '^(gp|trace|decode|simulator|tsm|drivers|viewer|reports|profiles|harness|steps|bin)/', pathNot: '\\.(test|conformance)\\.ts$' },
      to: {
        path: '^(gp|trace|decode|simulator|tsm|drivers|viewer|reports|profiles|harness)/',
        pathNot: ['^$1/', '/index\\.ts$', '^drivers/pcsc[.-]', '^harness/(targets-real|targets-pcsc|vpcd-cards)[.]ts$'],
      },
    },
    {
      name: 'step-files-do-not-import-each-other',
      comment: 'helpers shared by step files live in a module of their own (steps/*.ts) or in harness/',
      severity: 'error',
      from: { path: '^steps/[^/]+\\.steps\\.ts$' },
      to: { path: '^steps/[^/]+\\.steps\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'a cycle between modules makes the layers meaningless',
      severity: 'error',
      from: { pathNot: '\\.test\\.ts$' },
      to: { circular: true },
    },
    {
      name: 'tests-only-read-the-repository',
      comment: 'nothing imports from outside the repository (a user clone has nothing beside it)',
      severity: 'error',
      from: {},
      to: { path: '^\\.\\./' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|reports/out)' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.mjs', '.js', '.json'] },
  },
};
