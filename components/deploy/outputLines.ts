// The deployer's output lines. pulumi-command reads each line of a step's stdout and stderr
// with a bufio.Scanner of 64 KiB (util/util.go): a longer line stops the scanner, its pipe
// blocks, and `pulumi up` hangs. So every line the deployer prints is bounded here, well below.
// Pure.

/** The longest line the deployer prints, in bytes of UTF-8. */
export const MAX_LINE_BYTES = 4096;

/** The line, or its start with a visible "…(N bytes cut)" marker, in at most `max` bytes. */
export function boundLine(line: string, max = MAX_LINE_BYTES): string {
  const bytes = Buffer.from(line);
  if (bytes.length <= max) return line;
  // The marker's length with the largest count it can show.
  let keep = max - Buffer.byteLength(cutMarker(bytes.length));
  // Never in the middle of a character: back off over UTF-8 continuation bytes.
  while (keep > 0 && (bytes[keep] & 0xc0) === 0x80) keep--;
  return `${bytes.subarray(0, keep).toString()}${cutMarker(bytes.length - keep)}`;
}

const cutMarker = (cut: number) => `…(${cut} bytes cut)`;

/** Every line of `text` bounded (lines end at \n, as the scanner splits them). */
export function boundLines(text: string, max = MAX_LINE_BYTES): string {
  return text
    .split("\n")
    .map((line) => boundLine(line, max))
    .join("\n");
}

/** `text` in pieces of at most `maxBytes` bytes each, never splitting a character. */
export function splitBytes(text: string, maxBytes: number): string[] {
  const pieces: string[] = [];
  let piece = "";
  let size = 0;
  for (const char of text) {
    const n = Buffer.byteLength(char);
    if (size + n > maxBytes && piece) {
      pieces.push(piece);
      piece = "";
      size = 0;
    }
    piece += char;
    size += n;
  }
  if (piece || pieces.length === 0) pieces.push(piece);
  return pieces;
}
