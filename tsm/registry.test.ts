import { describe, expect, it } from 'vitest';
import { defaultFleet } from '../profiles/fleet.ts';
import { Registry } from './registry.ts';
import { TsmError } from './status.ts';

const registry = () => new Registry(defaultFleet());

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof TsmError) return e.reasonCode;
    throw e;
  }
  return 'none';
}

describe('Registry', () => {
  it('maps an MSI (MSISDN + MNO) to its SE, with or without the leading +', () => {
    const r = registry();
    expect(r.seIdByMsi('+33600000001', 'MNO-A')).toBe('se-1');
    expect(r.seIdByMsi('33700000002', 'MNO-B')).toBe('se-2');
    expect(reasonOf(() => r.seIdByMsi('+33600000001', 'MNO-B'))).toBe('3.9');
    expect(reasonOf(() => r.seIdByMsi('+33600000001', 'MNO-Z'))).toBe('3.9');
  });

  it('gives SE data and MNO data', () => {
    const r = registry();
    expect(r.seData('se-2')).toMatchObject({ seType: 'UICC', mno: 'MNO-B', iccid: '8933010000000000020', gpVersion: '2.3.1', masterKeyIndex: 2 });
    expect(r.mno(r.mnoOf('se-2'))).toMatchObject({ bearer: 'sms', maxApduCount: 8 });
    expect(reasonOf(() => r.seData('se-9'))).toBe('3.9');
  });

  it('knows who owns each SD and application', () => {
    const r = registry();
    expect(r.ownerOf('se-1', 'A000000151000000')).toEqual({ kind: 'issuer' });
    expect(r.ownerOf('se-1', 'f043454e5452414c2e5344')).toEqual({ kind: 'central' });
    expect(r.ownerOf('se-1', 'F042414E4B434F2E5344')).toEqual({ kind: 'sp', name: 'BankCo' });
    expect(r.ownerOf('se-1', 'F05452414E5349542E544B542E31')).toEqual({ kind: 'sp', name: 'TransitCo' });
    expect(r.ownerOf('se-1', 'A0000000041010')).toEqual({ kind: 'unknown' });
  });

  it("lists an SP's services and records state changes", () => {
    const r = registry();
    expect(r.servicesOf('BankCo').map((s) => `${s.seId}/${s.id}`)).toEqual(['se-1/bankco-pay', 'se-2/bankco-pay2', 'se-3/bankco-pay3']);
    expect(r.sesWithService('transitco-ticket')).toEqual(['se-1']);
    r.setServiceState('se-1', 'bankco-pay', 'activated');
    expect(r.service('se-1', 'bankco-pay').state).toBe('activated');
    expect(registry().service('se-1', 'bankco-pay').state).toBe('installed');
    expect(reasonOf(() => r.service('se-2', 'bankco-pay'))).toBe('3.9');
  });
});
