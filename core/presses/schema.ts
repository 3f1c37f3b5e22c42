import { z } from 'zod';
import { id, instant, optionalText, recordId, text, pagination, recordTimes } from '../validate';
import { pressCode } from '../codes';

/** Whether text is an OPC-UA TCP endpoint a client can connect to: opc.tcp://host[:port][/path]. */
export function isOpcUaEndpoint(value: string): boolean {
  if (!/^opc\.tcp:\/\/[^\s/?#]/i.test(value) || /\s/.test(value)) return false;
  try {
    const url = new URL(value);
    return url.protocol === 'opc.tcp:' && url.hostname !== '' && !url.username && !url.password && !url.search && !url.hash;
  } catch {
    return false;
  }
}

const opcuaEndpoint = z
  .string()
  .trim()
  .max(500)
  .nullish()
  .transform((v) => (v === '' || v == null ? null : v))
  .refine((v) => v === null || isOpcUaEndpoint(v), 'must be an OPC-UA endpoint like opc.tcp://192.168.10.21:4840');

const code = pressCode;

const pressFields = {
  name: text(200),
  // The largest machines close with ~10 000 t; more is a typo.
  tonnage: z.number().int().positive().max(20000).nullable(),
  opcuaEndpoint,
  location: optionalText(200),
  active: z.boolean(),
};

export const createPressInput = z
  .object({
    code,
    name: pressFields.name,
    tonnage: pressFields.tonnage.default(null),
    opcuaEndpoint: pressFields.opcuaEndpoint,
    location: pressFields.location,
    active: pressFields.active.default(true),
  })
  .strict();
export type CreatePressInput = z.input<typeof createPressInput>;

/** An update names the press and the fields to change (null clears an optional one). */
export const updatePressInput = z
  .object({
    id,
    code: code.optional(),
    name: pressFields.name.optional(),
    tonnage: pressFields.tonnage.optional(),
    opcuaEndpoint: pressFields.opcuaEndpoint.optional(),
    location: pressFields.location.optional(),
    active: pressFields.active.optional(),
  })
  .strict();
export type UpdatePressInput = z.input<typeof updatePressInput>;

/** Deactivating names only the press. */
export const deactivatePressInput = z.object({ id }).strict();

/** A press by id, or by its code (what is painted on the machine). */
export const getPressInput = z.union([z.object({ id }).strict(), z.object({ code }).strict()]);

export const listPressesInput = z
  .object({
    includeInactive: z.boolean().default(false),
    q: z.string().trim().max(200).optional(),
    ...pagination,
  })
  .strict();
export type ListPressesInput = z.input<typeof listPressesInput>;

export const pressRecord = z.object({
  id: recordId,
  code: z.string(),
  name: z.string(),
  tonnage: z.number().int().nullable(),
  opcuaEndpoint: z.string().nullable(),
  location: z.string().nullable(),
  active: z.boolean(),
  ...recordTimes,
  /** The tool mounted on the press now, if any. */
  tool: z.object({ id: recordId, assetNumber: z.string(), name: z.string(), mountedAt: instant }).nullable(),
}).meta({ id: 'Press' });
export type Press = z.infer<typeof pressRecord>;
