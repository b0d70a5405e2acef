/**
 * JSON Schema of the fleet file (profiles/fleet-types.ts in schema form). Every object is closed
 * (`additionalProperties: false`) so a misspelt field is an error, not a silent default.
 */

const hex = (minBytes: number, maxBytes: number) => ({
  type: 'string',
  pattern: `^(?:[0-9A-Fa-f]{2}){${minBytes},${maxBytes}}$`,
});

const aid = { ...hex(5, 16), description: 'AID, 5 to 16 bytes hex' };
const lifeCycle = { enum: ['INSTALLED', 'SELECTABLE', 'PERSONALIZED', 'LOCKED'] };
const name = { type: 'string', minLength: 1, maxLength: 64 };

const keySet = {
  type: 'object',
  additionalProperties: false,
  required: ['kvn', 'scp', 'enc', 'mac', 'dek'],
  properties: {
    kvn: { type: 'integer', minimum: 1, maximum: 127 },
    scp: { enum: ['02', '03'] },
    i: hex(1, 1),
    enc: hex(16, 32),
    mac: hex(16, 32),
    dek: hex(16, 32),
  },
};

const mno = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'bearer'],
  properties: {
    name,
    bearer: { enum: ['sms', 'http-admin', 'local'] },
    maxApduCount: { type: 'integer', minimum: 1 },
    maxScriptSize: { type: 'integer', minimum: 5 },
    latencyMs: { type: 'integer', minimum: 0 },
    up: { type: 'boolean' },
    seed: { type: 'integer', minimum: 0 },
    lossPercent: { type: 'integer', minimum: 0, maximum: 90 },
    segmentSize: { type: 'integer', minimum: 16, maximum: 65536 },
  },
};

const serviceProvider = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: { name, apiKey: { type: 'string', minLength: 1 } },
};

const pkg = {
  type: 'object',
  additionalProperties: false,
  required: ['aid', 'size', 'applets'],
  properties: {
    aid,
    version: { type: 'string', pattern: '^[0-9]+\\.[0-9]+$' },
    size: { type: 'integer', minimum: 0 },
    applets: { type: 'array', items: aid },
  },
};

const securityDomain = {
  type: 'object',
  additionalProperties: false,
  required: ['aid'],
  properties: {
    aid,
    parent: aid,
    privileges: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9-]*$' } },
    keys: keySet,
    lifeCycle,
  },
};

const instance = {
  type: 'object',
  additionalProperties: false,
  required: ['aid', 'packageAid', 'moduleAid', 'sd'],
  properties: { aid, packageAid: aid, moduleAid: aid, sd: aid, lifeCycle, size: { type: 'integer', minimum: 0 } },
};

const card = {
  type: 'object',
  additionalProperties: false,
  required: ['isd', 'memory'],
  properties: {
    atr: hex(2, 33),
    isd: {
      type: 'object',
      additionalProperties: false,
      required: ['aid', 'keys'],
      properties: { aid, keys: keySet },
    },
    memory: {
      type: 'object',
      additionalProperties: false,
      required: ['nonVolatile', 'volatile'],
      properties: { nonVolatile: { type: 'integer', minimum: 0 }, volatile: { type: 'integer', minimum: 0 } },
    },
    cplc: { type: 'object', additionalProperties: hex(1, 16) },
    packages: { type: 'array', items: pkg },
    securityDomains: { type: 'array', items: securityDomain },
    instances: { type: 'array', items: instance },
    authFailureLimit: { type: 'integer', minimum: 1 },
  },
};

const service = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'serviceProvider', 'sdAid'],
  properties: {
    id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    serviceProvider: name,
    sdAid: aid,
    packageAid: aid,
    moduleAid: aid,
    instanceAid: aid,
    /** The central TSM's service states (tsm/service-state.ts; a test keeps the two lists equal). */
    state: { enum: ['available', 'prepersonalizing', 'installed', 'activated', 'suspended', 'updating', 'deleting', 'deleted', 'failed'] },
    spKeys: keySet,
    installSize: { type: 'integer', minimum: 0 },
  },
};

const se = {
  type: 'object',
  additionalProperties: false,
  required: ['seId', 'type', 'cin', 'iin', 'mno', 'msisdns', 'centralSd', 'card'],
  properties: {
    seId: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$' },
    type: { enum: ['eSE', 'UICC'] },
    cin: hex(1, 16),
    iin: hex(1, 16),
    iccid: { type: 'string', pattern: '^[0-9]{18,19}[0-9F]?$' },
    mno: name,
    msisdns: { type: 'array', items: { type: 'string', pattern: '^\\+?[0-9]{5,15}$' } },
    profileId: { type: 'string', minLength: 1 },
    masterKeyIndex: { type: 'integer', minimum: 0 },
    gpVersion: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){1,3}$' },
    javaCardVersion: { type: 'string', pattern: '^[0-9]+(\\.[0-9]+){1,3}$' },
    certificationLevel: { type: 'string', minLength: 1 },
    expiry: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' },
    centralSd: {
      type: 'object',
      additionalProperties: false,
      required: ['aid', 'keys'],
      properties: { aid, keys: keySet },
    },
    services: { type: 'array', items: service },
    card,
  },
};

export const fleetSchema = {
  $id: 'https://tsmlab.invalid/schemas/fleet.json',
  type: 'object',
  additionalProperties: false,
  required: ['mnos', 'serviceProviders', 'ses'],
  properties: {
    $schema: { type: 'string' },
    mnos: { type: 'array', minItems: 1, items: mno },
    serviceProviders: { type: 'array', items: serviceProvider },
    ses: { type: 'array', items: se },
  },
} as const;
