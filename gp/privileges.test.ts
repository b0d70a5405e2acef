import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from './bytes.ts';
import { decodePrivileges, describePrivileges, encodePrivileges, hasPrivilege, parsePrivilegeName, PRIVILEGES, PrivilegeError, privilegeProblem } from './privileges.ts';

describe('privileges (GPCS Tables 11-7..11-9)', () => {
  it('single privileges encode to their table bits', () => {
    const expected: Record<string, string> = {
      'security-domain': '800000',
      'dap-verification': 'C00000',
      'delegated-management': 'A00000',
      'card-lock': '100000',
      'card-terminate': '080000',
      'card-reset': '040000',
      'cvm-management': '020000',
      'mandated-dap-verification': 'C10000',
      'trusted-path': '008000',
      'authorized-management': '004000',
      'token-management': '002000',
      'global-delete': '001000',
      'global-lock': '000800',
      'global-registry': '000400',
      'final-application': '000200',
      'global-service': '000100',
      'receipt-generation': '000080',
      'ciphered-load-file-data-block': '000040',
      'contactless-activation': '000020',
      'contactless-self-activation': '000010',
    };
    expect(Object.keys(expected).sort()).toEqual([...PRIVILEGES].sort());
    for (const [p, hex] of Object.entries(expected)) expect(toHex(encodePrivileges([p])), p).toBe(hex);
  });

  it('typical ISD privileges 9E FE 80 round-trip', () => {
    const isd = fromHex('9EFE80');
    const list = decodePrivileges(isd);
    expect(list).toEqual([
      'security-domain',
      'card-lock',
      'card-terminate',
      'card-reset',
      'cvm-management',
      'trusted-path',
      'authorized-management',
      'token-management',
      'global-delete',
      'global-lock',
      'global-registry',
      'final-application',
      'receipt-generation',
    ]);
    expect(toHex(encodePrivileges(list))).toBe('9EFE80');
  });

  it('DAP verification vs mandated DAP share bits; delegated management implies SD', () => {
    expect(decodePrivileges(fromHex('C00000'))).toEqual(['security-domain', 'dap-verification']);
    expect(decodePrivileges(fromHex('C10000'))).toEqual(['security-domain', 'mandated-dap-verification']);
    expect(decodePrivileges(fromHex('A00000'))).toEqual(['security-domain', 'delegated-management']);
    expect(() => encodePrivileges(['dap-verification', 'mandated-dap-verification'])).toThrow(PrivilegeError);
  });

  it('1-byte privileges (GP 2.1.1) decode; other lengths fail', () => {
    expect(decodePrivileges(fromHex('04'))).toEqual(['card-reset']);
    expect(decodePrivileges(fromHex('00'))).toEqual([]);
    expect(() => decodePrivileges(fromHex('0000'))).toThrow(/1 or 3 bytes/);
  });

  it('names: spec spelling, constants, camelCase and aliases', () => {
    expect(parsePrivilegeName('Security Domain')).toBe('security-domain');
    expect(parsePrivilegeName('GLOBAL_DELETE')).toBe('global-delete');
    expect(parsePrivilegeName('contactlessSelfActivation')).toBe('contactless-self-activation');
    expect(parsePrivilegeName('Token Verification')).toBe('token-management');
    expect(() => parsePrivilegeName('root')).toThrow(/unknown privilege "root"/);
  });

  it('consistency checks and helpers', () => {
    expect(privilegeProblem(fromHex('400000'))).toMatch(/without Security Domain/);
    expect(privilegeProblem(fromHex('800001'))).toMatch(/RFU/);
    expect(privilegeProblem(fromHex('9EFE80'))).toBeUndefined();
    expect(hasPrivilege(fromHex('800400'), 'global-registry')).toBe(true);
    expect(hasPrivilege(fromHex('800400'), 'global-delete')).toBe(false);
    expect(describePrivileges(fromHex('000000'))).toBe('none');
    expect(describePrivileges(fromHex('800200'))).toBe('Security Domain, Final Application');
  });
});
