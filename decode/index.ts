export * from './sw.ts';
export * from './gp-data.ts';
export * from './tlv-tree.ts';
export * from './apdu.ts';
export * from './wrapped.ts';
