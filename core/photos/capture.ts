/**
 * A photo taken by a camera on this machine (a Pi at a press or the toolroom bench): a command
 * (TOOLROOM_PHOTO_CAPTURE_COMMAND, default rpicam-still) writes a JPEG to a temporary file, which
 * then goes through the same upload as any other photo. The command comes from the environment of
 * whoever runs Node-RED, never from a message, and runs without a shell.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { Actor } from '../auth/actor';
import { authorize } from '../auth/permissions';
import { ToolroomError } from '../errors';
import { parse } from '../validate';
import { uploadPhotoInput, type Photo } from './schema';
import { uploadPhoto, type PhotoOptions } from './service';

export const DEFAULT_CAPTURE_COMMAND = 'rpicam-still --nopreview --immediate --encoding jpg -o {file}';
const CAPTURE_TIMEOUT_MS = 30_000;

/** The command line as program and arguments ("double quotes" keep spaces), `{file}` standing for the output file. */
export function captureArgs(command: string, file: string): string[] {
  const args = [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2]).replaceAll('{file}', file));
  if (!args.length) throw captureFailed(command, 'the command is empty');
  return args;
}

function captureFailed(command: string, why: string): ToolroomError {
  const message = `taking a photo with "${command.split(/\s/)[0]}" failed: ${why}`;
  return new ToolroomError('conflict', message, [{ field: 'command', rule: 'capture', message }]);
}

export interface CaptureOptions extends PhotoOptions {
  /** Default: TOOLROOM_PHOTO_CAPTURE_COMMAND, else DEFAULT_CAPTURE_COMMAND. */
  command?: string;
}

/** Take a photo with the camera and add it to the record the input names (as uploadPhoto). */
export async function capturePhoto(db: Knex, actor: Actor, input: unknown, options: CaptureOptions = {}): Promise<Photo> {
  authorize(actor, 'photo.add');
  parse(uploadPhotoInput, input);
  const command = options.command ?? (process.env.TOOLROOM_PHOTO_CAPTURE_COMMAND?.trim() || DEFAULT_CAPTURE_COMMAND);
  const file = path.join(os.tmpdir(), `toolroom-capture-${randomBytes(8).toString('hex')}.jpg`);
  const [program, ...args] = captureArgs(command, file);
  try {
    await new Promise<void>((resolve, reject) =>
      execFile(program, args, { timeout: CAPTURE_TIMEOUT_MS, windowsHide: true }, (err, _stdout, stderr) => {
        if (!err) return resolve();
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'the command was not found' : err.killed ? `no picture within ${CAPTURE_TIMEOUT_MS / 1000} s` : String(stderr || err.message).trim().split('\n').slice(-1)[0].slice(0, 200);
        reject(captureFailed(command, why));
      }),
    );
    await fs.access(file).catch(() => {
      throw captureFailed(command, 'it wrote no picture (does the command write to {file}?)');
    });
    return await uploadPhoto(db, actor, input, { file }, options);
  } finally {
    await fs.rm(file, { force: true });
  }
}
