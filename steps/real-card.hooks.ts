/** Gives the real-card guard the running scenario's tags (its destructive-command interlock needs them). */
import { Before } from '@cucumber/cucumber';
import { setScenarioTags } from '../harness/targets-real.ts';

Before(function ({ pickle }) {
  setScenarioTags(pickle.tags.map((t) => t.name));
});
