/** Gives the scenario's World its tags (the real-card guard's destructive-command interlock needs them). */
import { Before } from '@cucumber/cucumber';
import type { TsmWorld } from './world.ts';

Before(function (this: TsmWorld, { pickle }) {
  this.scenarioTags = pickle.tags.map((t) => t.name);
});
