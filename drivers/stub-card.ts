/**
 * Compatibility name only: the early stand-in card is gone; `StubCard` is now the real simulated SE with the
 * default card, so tests that still import it run against the simulator. New code: newSimulatedSe() in
 * conformance.ts, or createSimulatedSe() from the simulator.
 * @deprecated
 */
import { defaultSeSpec, SimulatedSe } from '../simulator/index.ts';

export class StubCard extends SimulatedSe {
  constructor(seId: string) {
    super(defaultSeSpec({ seId }));
  }
}
