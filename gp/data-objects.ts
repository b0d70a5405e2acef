/**
 * Names of the data objects a trace carries: BER-TLV tags of GP registry data, FCI, card recognition data,
 * INSTALL parameters and key information (GPCS 2.3.1 chapter 11, Appendix H; ETSI TS 102 226), and the GET DATA
 * identifiers of §11.3. The same byte names other objects in other places ('CF' is the key diversification
 * data to GET DATA but the implicit selection parameter inside an 'E3' template), hence three tables.
 */

/** BER-TLV tag -> name, for the tags the GP registry, FCI and install data use. */
export const DATA_OBJECTS: Readonly<Record<number, string>> = {
  0x06: 'Object identifier',
  0x42: 'Issuer identification number',
  0x45: 'Card image number',
  0x4f: 'AID',
  0x50: 'Application label',
  0x5c: 'Tag list',
  0x5f50: 'Security Domain manager URL',
  0x61: 'Application template',
  0x63: 'Card recognition data',
  0x64: 'Secure channel protocol and options',
  0x66: 'Card data',
  0x67: 'Card capability information',
  0x6f: 'FCI template',
  0x73: 'Security Domain management data',
  0x84: 'DF name / executable module AID',
  0x9e: 'Signature',
  0x9f65: 'Maximum length of data field in command message',
  0x9f6e: 'Application production life cycle data',
  0x9f70: 'Life cycle state',
  0x9f7f: 'Card production life cycle data (CPLC)',
  0xa5: 'FCI proprietary data',
  0xb6: 'Control reference template for digital signature',
  0xc0: 'Key information data',
  0xc1: 'Sequence counter of the default key version',
  0xc2: 'Confirmation counter',
  0xc4: "Application's executable load file AID",
  0xc5: 'Privileges',
  0xc6: 'Non-volatile code memory requirement',
  0xc7: 'Volatile memory quota',
  0xc8: 'Non-volatile memory quota',
  0xc9: 'Application specific parameters',
  0xca: 'TS 102 226 specific parameters',
  0xcb: 'Global service parameters',
  0xcc: "Associated Security Domain's AID",
  0xce: 'Executable load file version number',
  0xcf: 'Implicit selection parameter',
  0xd3: 'Current security level',
  0xd7: 'Volatile reserved memory',
  0xd8: 'Non-volatile reserved memory',
  0xe0: 'Key information template',
  0xe3: 'GlobalPlatform Registry related data',
  0xea: 'TS 102 226 specific parameters',
  0xef: 'System specific parameters',
  0xff21: 'Extended card resources information',
};

/** Inside 'FF21' (ETSI TS 102 226 §8.2.1.7.2) the context-specific tags are counters, not the GP meanings. */
export const EXTENDED_CARD_RESOURCES_OBJECTS: Readonly<Record<number, string>> = {
  0x81: 'Number of installed applications',
  0x82: 'Free non-volatile memory',
  0x83: 'Free volatile memory',
};

/** GET DATA P1-P2 -> the object it asks for (GPCS 2.3.1 §11.3.3 and Appendix H). */
export const GET_DATA_OBJECTS: Readonly<Record<number, string>> = {
  0x0042: 'Issuer identification number (IIN)',
  0x0045: 'Card image number (CIN)',
  0x0066: 'Card data',
  0x0067: 'Card capability information',
  0x00cf: 'Key diversification data',
  0x00c1: 'Sequence counter of the default key version',
  0x00c2: 'Confirmation counter',
  0x00d3: 'Current security level',
  0x00e0: 'Key information template',
  0x2f00: 'List of applications',
  0x5f50: 'Security Domain manager URL',
  0x9f7f: 'Card production life cycle data (CPLC)',
  0x9f6e: 'Application production life cycle data',
  0xff21: 'Extended card resources information',
};
