/**
 * The request rules every SP function shares: which SE a request names, and whether the caller may act on a
 * service or address an AID. Each refusal is traced as a decision and thrown as TsmError.
 */
import { decide } from './decide.ts';
import type { Registry, ServiceRecord } from './registry.ts';
import { TsmError } from './status.ts';

/** How a request names its SE: seId and/or MSI. */
export interface SeSelector {
  seId?: string;
  msisdn?: string;
  mno?: string;
}

/** Finds the SE from seId and/or MSI (or, for a service id carried by one SE only, from the service). */
export function resolveSe(registry: Registry, req: SeSelector, field: string, serviceId?: string): string {
  if (req.msisdn !== undefined || req.mno !== undefined) {
    if (req.msisdn === undefined || req.mno === undefined) throw TsmError.failed('2.3', 'msisdn and mno go together: give both or neither');
    const bySubscriber = registry.seIdByMsi(req.msisdn, req.mno);
    if (req.seId !== undefined && req.seId !== bySubscriber) {
      throw TsmError.failed('3.10', `SE ${req.seId} is not the SE of subscriber ${req.msisdn} on ${req.mno}`);
    }
    return bySubscriber;
  }
  if (req.seId !== undefined) {
    if (!registry.hasSe(req.seId)) throw TsmError.failed('3.9', `unknown SE "${req.seId}"`);
    return req.seId;
  }
  if (serviceId !== undefined) {
    const ses = registry.sesWithService(serviceId);
    if (ses.length === 1) return ses[0];
    if (ses.length === 0) throw TsmError.failed('3.9', `service "${serviceId}" is not known`);
  }
  throw TsmError.failed('2.2', `${field} (or msisdn and mno) is required`);
}

/** Only the SP that owns a service may act on it (1.2). */
export function authorizeService(sp: string, service: ServiceRecord): void {
  if (service.serviceProvider !== sp) {
    decide('authorization', `refused: ${sp} asked for ${service.id} of ${service.serviceProvider}`);
    throw TsmError.failed('1.2', `${sp} may not act on service ${service.id}: it belongs to ${service.serviceProvider}`);
  }
  decide('authorization', `${sp} owns ${service.id} on ${service.seId}`);
}

/** A conversation may target only the caller's own security domains and applications (1.2). */
export function authorizeTarget(registry: Registry, sp: string, service: ServiceRecord, targetAid: string): void {
  const owner = registry.ownerOf(service.seId, targetAid);
  if (owner.kind !== 'sp' || owner.name !== sp) {
    decide('authorization', `refused: ${sp} targeted ${targetAid} (${owner.kind})`);
    throw TsmError.failed('1.2', `${sp} may not address ${targetAid}: it is not one of its security domains or applications`);
  }
}
