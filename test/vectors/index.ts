/** Known-answer vectors of test/vectors/: one loader per text fixture, typed cases out. */
export { FixtureError } from './fixture.ts';
export { parsePysimGpCommands, pysimGpCommands, type KeyInformationVector, type PysimGpCommands } from './pysim-gp-commands-tlv.ts';
export { parsePysimScp02, pysimScp02, type PysimScp02 } from './pysim-scp02.ts';
export { parsePysimScp03, pysimScp03, pysimScp03Case, pysimScp03Plain, type PysimScp03, type Scp03VectorCase, type Scp03VectorKeySet } from './pysim-scp03.ts';
