import { z } from 'zod';
import { ROLES, type UserRole } from '../auth/actor';
import { id, recordId, text, pagination, recordTimes } from '../validate';

export const EDITOR_ACCESS = ['none', 'read', 'full'] as const;
export type EditorAccess = (typeof EDITOR_ACCESS)[number];

/** What a role gets in the Node-RED editor unless an admin chooses otherwise. */
export const DEFAULT_EDITOR_ACCESS: Record<UserRole, EditorAccess> = {
  technician: 'none',
  engineer: 'read',
  admin: 'full',
};

const username = z
  .string()
  .trim()
  // People type their name in any case on a kiosk; one spelling keeps the unique rule honest.
  .toLowerCase()
  .min(3)
  .max(40)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'letters, digits and . _ - only, starting with a letter or digit');

const userFields = {
  displayName: text(200),
  role: z.enum(ROLES),
  editorAccess: z.enum(EDITOR_ACCESS),
  active: z.boolean(),
};

export const createUserInput = z
  .object({
    username,
    displayName: userFields.displayName,
    role: userFields.role,
    editorAccess: userFields.editorAccess.optional(),
    active: userFields.active.default(true),
  })
  .strict();
export type CreateUserInput = z.input<typeof createUserInput>;

/** The username is the login and the name in the audit trail: it does not change. */
export const updateUserInput = z
  .object({
    id,
    displayName: userFields.displayName.optional(),
    role: userFields.role.optional(),
    editorAccess: userFields.editorAccess.optional(),
    active: userFields.active.optional(),
  })
  .strict();
export type UpdateUserInput = z.input<typeof updateUserInput>;

/** Disabling or enabling names only the user. */
export const userIdInput = z.object({ id }).strict();

export const getUserInput = z.union([z.object({ id }).strict(), z.object({ username }).strict()]);

export const listUsersInput = z
  .object({
    role: z.enum(ROLES).optional(),
    includeInactive: z.boolean().default(false),
    q: z.string().trim().max(200).optional(),
    ...pagination,
  })
  .strict();
export type ListUsersInput = z.input<typeof listUsersInput>;

/** A user as core hands it out: never a password or PIN hash. */
export const userRecord = z.object({
  id: recordId,
  username: z.string(),
  displayName: z.string(),
  role: z.enum(ROLES),
  editorAccess: z.enum(EDITOR_ACCESS),
  active: z.boolean(),
  ...recordTimes,
}).meta({ id: 'User' });
export type User = z.infer<typeof userRecord>;
