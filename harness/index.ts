/** Public surface of harness/: the rig code steps and the CLI compose — where a run's cards live, issuer actions, card restore, vpcd cards, applicability, the SP side of lifecycle scenarios. */
export * from './applicability.ts';
export * from './card-access.ts';
export * from './card-restore.ts';
export * from './card-trouble.ts';
export * from './lifecycle-callback.ts';
export * from './lifecycle-card.ts';
export * from './lifecycle-requests.ts';
export * from './lifecycle-restart.ts';
export * from './lifecycle-scenario.ts';
export * from './lifecycle-sp.ts';
export * from './response-match.ts';
export * from './targets.ts';
export * from './wire.ts';
// targets-pcsc.ts, targets-real.ts and vpcd-cards.ts are the PC/SC part, loaded on demand (targets.ts) so pcsclite stays optional.
