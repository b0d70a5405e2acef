export * from './events.ts';
export * from './bus.ts';
