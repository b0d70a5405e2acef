/** Public surface of simulator/: the card side (SimulatedSe and its helpers) and the network side. */
export * from './se.ts';
export * from './factory.ts';
export * from './default-card.ts';
export * from './inspect.ts';
export * from './persistence.ts';
export { type SimulatedSeConfig, DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_CENTRAL_SD_PRIVILEGES } from './build.ts';
export { SimulatorError, Sw as CardSw } from './errors.ts';
export { buildAtr, checkAtr } from './atr.ts';
export { Footprint } from './memory.ts';
export { GET_STATUS_PAGE } from './cmd-get-status.ts';
export { type CardState, STATE_FORMAT } from './state.ts';
export * from './ws-server.ts';
export * from './ws-simulator.ts';
export * from './vpcd.ts';
export * from './mno-network.ts';
export { Terminal, TerminalError } from './terminal.ts';
export { cardViewOf } from './card-view.ts';
