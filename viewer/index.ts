export * from './server.ts';
export * from './store.ts';
export * from './rows.ts';
