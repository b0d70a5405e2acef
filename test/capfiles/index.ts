/** The sample CAP files of test/capfiles/ (origin and licence of each in README.md there). */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** GlobalPlatformPro's empty applet: package 0102030405, applet 0102030405060708 (LGPL-3.0). */
export const GPPRO_EMPTY = 'gppro-Empty_0102030405_8d5ac9e2_2.2.1.cap';
/** javacard-express's Oracle-converted TestApplet: package A000000062010101 (Apache-2.0). */
export const JC_EXPRESS_TEST_APPLET = 'javacard-express-oracle-TestApplet-jc305.cap';

export type SampleCap = typeof GPPRO_EMPTY | typeof JC_EXPRESS_TEST_APPLET;

export function capFilePath(name: SampleCap): string {
  return fileURLToPath(new URL(name, import.meta.url));
}

/** A fresh copy of the file's bytes (tests may damage it). */
export function readCapFile(name: SampleCap): Uint8Array {
  return new Uint8Array(readFileSync(new URL(name, import.meta.url)));
}
