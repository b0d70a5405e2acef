// cucumber-js profile. `tsmlab run` (npm start / npm test) loads it and adds formatters and output paths;
// `npx cucumber-js` also works with it directly.
export default {
  import: ['tsx-register.js', 'steps/**/*.ts'],
  paths: ['features/**/*.feature'],
  strict: true,
  format: ['summary'],
};
