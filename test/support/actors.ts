import type { Actor } from '../../core/auth/actor';

export const technician: Actor = { id: '11', name: 'tina.tech', role: 'technician', via: 'test' };
export const technician2: Actor = { id: '12', name: 'tom.tech', role: 'technician', via: 'test' };
export const engineer: Actor = { id: '21', name: 'erik.eng', role: 'engineer', via: 'test' };
export const admin: Actor = { id: '31', name: 'ada.admin', role: 'admin', via: 'test' };
export const system: Actor = { id: 'system', name: 'system', role: 'system', via: 'test-flow' };
export const byRole = { technician, engineer, admin } as const;
