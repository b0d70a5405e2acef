// cucumber-js profile. `tsmlab run` (npm start / npm test) loads it and adds the feature paths, formatters and
// output files; with `npx cucumber-js features/` it works directly too. No `paths` here: profile paths merge
// with command-line paths instead of being replaced by them.
export default {
  import: ['tsx-register.js', 'steps/*.ts'],
  strict: true,
  format: ['summary'],
};
