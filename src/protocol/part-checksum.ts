import { z } from 'zod';

/**
 * A part file's size and CRC-32 (8 lowercase hex digits): an entry of the output's manifest
 * (output-manifest.ts), and what a reduce attempt reports of the part it wrote (messages.ts).
 */
export const PartChecksumSchema = z.object({
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  crc32: z.string().regex(/^[0-9a-f]{8}$/, 'expected 8 lowercase hex digits'),
});
export type PartChecksum = z.infer<typeof PartChecksumSchema>;
