/**
 * File bytes sent inside a GraphQL request as base64 (importModel, importSae): checked before they
 * are decoded, since Node's decoder silently skips characters outside the alphabet and a truncated
 * or line-wrapped paste would otherwise arrive as a different file.
 */
import { UserError } from '../errors.js';

/**
 * The bytes of `text` (standard alphabet, no line breaks, at most `maxBytes` decoded); otherwise a
 * UserError naming `what` (or `tooLarge` when the file is too large).
 */
export function base64Bytes(text: string, maxBytes: number, what: string, tooLarge = `${what} exceeds ${maxBytes} bytes`): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new UserError(`${what} is not valid base64 (standard alphabet, no line breaks)`);
  if ((text.length * 3) / 4 > maxBytes) throw new UserError(tooLarge);
  return Buffer.from(text, 'base64');
}
