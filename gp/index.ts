export * from './bytes.ts';
export * from './apdu.ts';
export * from './tlv.ts';
export * from './des.ts';
export * from './scp02-crypto.ts';
export * from './scp02.ts';
export * from './scp02-card.ts';
export * from './scp02-put-key.ts';
