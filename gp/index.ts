export * from './bytes.ts';
export * from './apdu.ts';
export * from './tlv.ts';
export * from './des.ts';
