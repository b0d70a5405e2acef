// Preloaded with `node --require` by tests that check what tsmlab says when the pcsclite native module is
// missing: resolving 'pcsclite' fails exactly as it does on a machine where it was never installed.
const Module = require('node:module');

const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'pcsclite' || request.startsWith('pcsclite/')) {
    const err = new Error(`Cannot find module '${request}'`);
    err.code = 'MODULE_NOT_FOUND';
    throw err;
  }
  return resolve.call(this, request, ...rest);
};
