export * from './bytes.ts';
export * from './apdu.ts';
export * from './tlv.ts';
