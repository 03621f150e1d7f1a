// bcrypt as golang.org/x/crypto/bcrypt writes it (the random provider hashes its passwords with it:
// terraform-provider-random v3.9.0 internal/provider/resource_password.go:541-555 generateHash,
// golang.org/x/crypto v0.51.0), on a Blowfish of our own: node:crypto has no Blowfish (OpenSSL 3
// keeps it in the legacy provider) and the project wants no bcrypt package for one test model.
// - "$2a$<cost, 2 digits>$<22 chars of salt><31 chars of hash>", bcrypt's own base64 alphabet
//   without padding; a 16-byte salt from crypto randomness; DefaultCost 10 (bcrypt.go:24,57-59,
//   138-160, Hash() 246-269, base64.go);
// - the key is the password plus a trailing NUL byte (expensiveBlowfishSetup, bcrypt.go:217-244),
//   Blowfish's salted key schedule once, then 2^cost rounds of ExpandKey(key), ExpandKey(salt);
//   "OrpheanBeholderScryDoubt" encrypted 64 times per block, 23 of its 24 bytes kept
//   (bcrypt.go:196-215);
// - Blowfish's P-array and S-boxes are the hexadecimal digits of pi (blowfish/const.go), computed
//   here once with BigInt (Machin's formula) instead of a 4 KiB table; the key schedules and the
//   block function as blowfish/block.go:9-136 (getNextWord, ExpandKey, expandKeyWithSalt,
//   encryptBlock).
// Pure: no Pulumi, no I/O.
import { randomBytes, timingSafeEqual } from "node:crypto";

/** 18 P-array words and 4 x 256 S-box words: the first 1042 32-bit words of pi's fraction. */
const WORDS = 18 + 4 * 256;

let piWords: Uint32Array | undefined;

/** pi's hexadecimal fraction as 32-bit words: 16*atan(1/5) - 4*atan(1/239) in fixed point, 64 guard bits. */
export function piFractionWords(): Uint32Array {
  if (piWords) return piWords;
  const bits = BigInt(WORDS * 32);
  const guard = 64n;
  const one = 1n << (bits + guard);
  const atanInverse = (x: bigint): bigint => {
    let power = one / x;
    const x2 = x * x;
    let sum = 0n;
    for (let k = 0n; power !== 0n; k++) {
      const term = power / (2n * k + 1n);
      sum += k % 2n === 0n ? term : -term;
      power /= x2;
    }
    return sum;
  };
  const pi = (16n * atanInverse(5n) - 4n * atanInverse(239n)) >> guard;
  let fraction = pi - (3n << bits);
  const words = new Uint32Array(WORDS);
  for (let i = WORDS - 1; i >= 0; i--) {
    words[i] = Number(fraction & 0xffffffffn);
    fraction >>= 32n;
  }
  piWords = words;
  return words;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  l = 0;
  r = 0;

  constructor() {
    const pi = piFractionWords();
    this.p = pi.slice(0, 18);
    this.s = pi.slice(18);
  }

  /** encryptBlock (block.go:115-136) on (this.l, this.r), in place. */
  encrypt(): void {
    const { p, s } = this;
    let l = this.l ^ p[0];
    let r = this.r;
    for (let i = 1; i < 17; i += 2) {
      r ^= (((s[l >>> 24] + s[256 | ((l >>> 16) & 255)]) ^ s[512 | ((l >>> 8) & 255)]) + s[768 | (l & 255)]) ^ p[i];
      l ^= (((s[r >>> 24] + s[256 | ((r >>> 16) & 255)]) ^ s[512 | ((r >>> 8) & 255)]) + s[768 | (r & 255)]) ^ p[i + 1];
    }
    this.l = (r ^ p[17]) >>> 0;
    this.r = l >>> 0;
  }

  /** expandKeyWithSalt (block.go:71-113); with an empty salt, ExpandKey (block.go:28-65). */
  expand(key: Buffer, salt?: Buffer): void {
    const next = nextWord(key);
    for (let i = 0; i < 18; i++) this.p[i] ^= next();
    const nextSalt = salt ? nextWord(salt) : () => 0;
    this.l = 0;
    this.r = 0;
    for (const table of [this.p, this.s]) {
      for (let i = 0; i < table.length; i += 2) {
        this.l ^= nextSalt();
        this.r ^= nextSalt();
        this.encrypt();
        table[i] = this.l;
        table[i + 1] = this.r;
      }
    }
  }
}

/** getNextWord (block.go:9-21): big-endian words read cyclically from `b`. */
function nextWord(b: Buffer): () => number {
  let j = 0;
  return () => {
    let w = 0;
    for (let i = 0; i < 4; i++) {
      w = ((w << 8) | b[j]) >>> 0;
      j = (j + 1) % b.length;
    }
    return w;
  };
}

const STD = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const BCRYPT = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const translate = (s: string, from: string, to: string) => [...s].map((c) => to[from.indexOf(c)] ?? c).join("");

/** base64Encode (base64.go): bcrypt's alphabet, no padding. */
function encode64(b: Buffer): string {
  return translate(b.toString("base64").replace(/=+$/, ""), STD, BCRYPT);
}

function decode64(s: string): Buffer {
  return Buffer.from(translate(s, BCRYPT, STD), "base64");
}

/** bcrypt(password, cost, salt) of bcrypt.go:196-215: the 31 characters after the salt. */
function rawHash(password: Buffer, cost: number, salt: Buffer): string {
  const key = Buffer.concat([password, Buffer.from([0])]);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 0; i < 2 ** cost; i++) {
    bf.expand(key);
    bf.expand(salt);
  }
  const data = Buffer.from("OrpheanBeholderScryDoubt");
  for (let block = 0; block < 24; block += 8) {
    bf.l = data.readUInt32BE(block);
    bf.r = data.readUInt32BE(block + 4);
    for (let j = 0; j < 64; j++) bf.encrypt();
    data.writeUInt32BE(bf.l, block);
    data.writeUInt32BE(bf.r, block + 4);
  }
  return encode64(data.subarray(0, 23));
}

export const DEFAULT_COST = 10;

/** GenerateFromPassword: "$2a$10$" + salt + hash. `salt` (16 bytes) is for tests; by default crypto random. */
export function bcryptHash(password: Buffer | string, cost = DEFAULT_COST, salt: Buffer = randomBytes(16)): string {
  const pw = Buffer.from(password);
  if (pw.length > 72) throw new Error("bcrypt: password length exceeds 72 bytes");
  if (cost < 4 || cost > 31) throw new Error(`crypto/bcrypt: cost ${cost} is outside allowed inclusive range 4..31`);
  if (salt.length !== 16) throw new Error("bcrypt: the salt must be 16 bytes");
  const encodedSalt = encode64(salt);
  return `$2a$${String(cost).padStart(2, "0")}$${encodedSalt}${rawHash(pw, cost, salt)}`;
}

/** CompareHashAndPassword: true when `hash` (any $2a$/$2b$/$2y$ cost) is of `password`. */
export function bcryptMatches(hash: string, password: Buffer | string): boolean {
  const m = /^\$2[aby]?\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/.exec(hash);
  if (!m) return false;
  const salt = decode64(m[2]).subarray(0, 16);
  const again = Buffer.from(rawHash(Buffer.from(password), Number(m[1]), salt));
  return timingSafeEqual(again, Buffer.from(m[3]));
}
