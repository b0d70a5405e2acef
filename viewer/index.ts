export * from './server.ts';
export * from './store.ts';
export * from './rows.ts';
export * from './decode/index.ts';
