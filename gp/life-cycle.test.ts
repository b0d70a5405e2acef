import { describe, expect, it } from 'vitest';
import {
  ApplicationLifeCycle,
  applicationLifeCycleName,
  CardLifeCycle,
  cardLifeCycleName,
  cardTransitionAllowed,
  isLocked,
  lifeCycleName,
  lock,
  SecurityDomainLifeCycle,
  shortLifeCycleName,
  unlock,
} from './life-cycle.ts';

describe('life cycle codings (GPCS Tables 11-3..11-6)', () => {
  it('card states', () => {
    expect([CardLifeCycle.OP_READY, CardLifeCycle.INITIALIZED, CardLifeCycle.SECURED, CardLifeCycle.CARD_LOCKED, CardLifeCycle.TERMINATED]).toEqual([0x01, 0x07, 0x0f, 0x7f, 0xff]);
    expect(cardLifeCycleName(0x0f)).toBe('SECURED');
    expect(cardLifeCycleName(0x7f)).toBe('CARD_LOCKED');
    expect(cardLifeCycleName(0x03)).toMatch(/unknown/);
  });

  it('application and SD states, locked and application-specific', () => {
    expect(ApplicationLifeCycle.SELECTABLE).toBe(0x07);
    expect(SecurityDomainLifeCycle.PERSONALIZED).toBe(0x0f);
    expect(applicationLifeCycleName(0x03)).toBe('INSTALLED');
    expect(applicationLifeCycleName(0x07)).toBe('SELECTABLE');
    expect(applicationLifeCycleName(0x87)).toBe('LOCKED (was SELECTABLE)');
    expect(applicationLifeCycleName(0x0f, 'security-domain')).toBe('PERSONALIZED');
    expect(applicationLifeCycleName(0x8f, 'security-domain')).toBe('LOCKED (was PERSONALIZED)');
    expect(applicationLifeCycleName(0x1f)).toBe('SELECTABLE (application-specific 1F)');
    expect(applicationLifeCycleName(0x01)).toMatch(/unknown/);
    expect(lifeCycleName('load-file', 0x01)).toBe('LOADED');
    expect(lifeCycleName('card', 0xff)).toBe('TERMINATED');
  });

  it('short names: every locked application or SD state reads LOCKED, card states keep their names', () => {
    expect(shortLifeCycleName('application', 0x87)).toBe('LOCKED');
    expect(shortLifeCycleName('security-domain', 0x8f)).toBe('LOCKED');
    expect(shortLifeCycleName('security-domain', 0x0f)).toBe('PERSONALIZED');
    expect(shortLifeCycleName('application', 0x1f)).toBe('SELECTABLE (application-specific 1F)');
    expect(shortLifeCycleName('card', 0xff)).toBe('TERMINATED');
    expect(shortLifeCycleName('card', 0x7f)).toBe('CARD_LOCKED');
  });

  it('lock / unlock keep the previous state (SET STATUS b8)', () => {
    expect(lock(0x0f)).toBe(0x8f);
    expect(unlock(0x8f)).toBe(0x0f);
    expect(isLocked(0x87)).toBe(true);
    expect(isLocked(0x07)).toBe(false);
    expect(isLocked(0xff)).toBe(false);
  });

  it('card transitions follow Figure 5-1', () => {
    const C = CardLifeCycle;
    expect(cardTransitionAllowed(C.OP_READY, C.INITIALIZED)).toBe(true);
    expect(cardTransitionAllowed(C.INITIALIZED, C.SECURED)).toBe(true);
    expect(cardTransitionAllowed(C.SECURED, C.INITIALIZED)).toBe(false);
    expect(cardTransitionAllowed(C.SECURED, C.CARD_LOCKED)).toBe(true);
    expect(cardTransitionAllowed(C.CARD_LOCKED, C.SECURED)).toBe(true);
    expect(cardTransitionAllowed(C.INITIALIZED, C.CARD_LOCKED)).toBe(false);
    expect(cardTransitionAllowed(C.CARD_LOCKED, C.TERMINATED)).toBe(true);
    expect(cardTransitionAllowed(C.TERMINATED, C.SECURED)).toBe(false);
  });
});
