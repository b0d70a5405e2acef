/** Public surface of profiles/: the fleet file, card profiles (ICS + IXIT), key references, rig profiles. */
export * from './fleet.ts';
export * from './card-profile.ts';
export * from './key-refs.ts';
export * from './rig-profile.ts';
export * from './key-sets.ts';
