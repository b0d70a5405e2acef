export * from './channel.ts';
export * from './extensions.ts';
export * from './deadline.ts';
export * from './inproc.ts';
export * from './websocket.ts';
export * from './traced.ts';
export * from './open.ts';
export * from './safety.ts';
