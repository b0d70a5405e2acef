/** The one way other folders build a simulated SE from a fleet entry. */
import type { SimulatedSeConfig } from './build.ts';
import { SimulatedSe, type SimulatedSeOptions } from './se.ts';

/** Builds the SE of a fleet entry (a SeSpec fits); throws SimulatorError on a bad card description. */
export function createSimulatedSe(spec: SimulatedSeConfig, opts: SimulatedSeOptions = {}): SimulatedSe {
  return new SimulatedSe(spec, opts);
}
