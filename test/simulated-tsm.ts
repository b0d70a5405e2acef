/**
 * A central TSM for tests, reaching its SEs through the simulated operator networks of its fleet (the gateway
 * `tsmlab serve` and the steps' World give it too). `tsm.gateway.setUp(mno, false)` takes a network down.
 */
import { MnoNetworks } from '../simulator/index.ts';
import { CentralTsm, type CentralTsmOptions } from '../tsm/index.ts';

export type SimulatedTsm = CentralTsm<MnoNetworks>;

export function simulatedTsm(opts: Omit<CentralTsmOptions, 'gateway'>): SimulatedTsm {
  return new CentralTsm({ ...opts, gateway: new MnoNetworks(opts.fleet.mnos) });
}
