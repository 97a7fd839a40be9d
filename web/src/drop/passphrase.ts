// The passphrase of a passphrase-mode link, made exactly as `valise pack`
// makes one (crypto/src/passphrase.cpp): six groups of four symbols from 31
// (no look-alikes: 0/o, 1/l/i), dash-separated, 118.9 bits, read aloud over
// the phone or typed from an SMS.
const ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789";
const GROUPS = 6;
const GROUP_SIZE = 4;

// Uniform in [0, n) without modulo bias: draws below the largest multiple of
// n that fits in 32 bits are kept, the rest redrawn (like randombytes_uniform).
function uniform(n: number, random: (out: Uint32Array) => void): number {
  const limit = 2 ** 32 - (2 ** 32 % n);
  const draw = new Uint32Array(1);
  for (;;) {
    random(draw);
    const value = draw[0] ?? 0;
    if (value < limit) return value % n;
  }
}

export function generatePassphrase(
  random: (out: Uint32Array) => void = (out) => crypto.getRandomValues(out),
): string {
  const groups: string[] = [];
  for (let g = 0; g < GROUPS; g++) {
    let group = "";
    for (let i = 0; i < GROUP_SIZE; i++) group += ALPHABET[uniform(ALPHABET.length, random)];
    groups.push(group);
  }
  return groups.join("-");
}
