import { z } from 'zod';

/**
 * The codes people read off things in the plant: a tool's asset number (printed on its QR label)
 * and a press code (painted on the machine). Both are letters, digits and . _ / -, starting with
 * a letter or digit, at most 40 characters, and stored upper case: labels, scanners and tablets
 * disagree on case, and one spelling keeps the unique rules honest.
 */
const PLANT_CODE = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const PLANT_CODE_MAX = 40;

/**
 * A code people type and flows name (plant codes, failure codes, inspection template codes): trimmed,
 * 1 to 40 characters matching `pattern`, stored in one case so that one spelling keeps the unique rule honest.
 */
export function typedCode(pattern: RegExp, message: string, spelling: 'upper' | 'lower') {
  return z
    .string()
    .trim()
    .min(1)
    .max(PLANT_CODE_MAX)
    .regex(pattern, message)
    .transform((v) => (spelling === 'upper' ? v.toUpperCase() : v.toLowerCase()));
}

function plantCode() {
  return typedCode(PLANT_CODE, 'letters, digits and . _ / - only, starting with a letter or digit', 'upper');
}

/** A tool's asset number as printed on its label. */
export const assetNumber = plantCode();

/** A press code as painted on the machine. */
export const pressCode = plantCode();

/** Whether text (trimmed) is a press code, e.g. in a node's settings before anything is looked up. */
export function isPressCode(text: string): boolean {
  return pressCode.safeParse(text).success;
}
