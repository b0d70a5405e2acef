export * from './events.ts';
export * from './bus.ts';
export * from './ndjson.ts';
export * from './process-alive.ts';
export * from './verdict-errors.ts';
