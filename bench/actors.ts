import type { Actor } from '../core/auth/actor';

export const engineer: Actor = { id: 'bench', name: 'bench', role: 'engineer', via: 'bench' };
