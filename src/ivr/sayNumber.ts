import type { PromptName } from './AccessCodeFlow.js';

/**
 * The prompts that say a whole number in English with Debian's
 * `digits/` recordings (0-20, the tens, `hundred`, `thousand`, `million`):
 * 25 is `digits/20 digits/5`, 342 is `digits/3 digits/hundred digits/40
 * digits/2`. Negative or fractional input is said as its absolute integer.
 */
export function sayNumber(value: number): PromptName[] {
  const n = Math.floor(Math.abs(value));
  if (!Number.isFinite(n)) return ['digits/0'];
  if (n === 0) return ['digits/0'];
  const out: PromptName[] = [];
  const groups: Array<[number, PromptName]> = [
    [1_000_000, 'digits/million'],
    [1_000, 'digits/thousand'],
  ];
  let rest = n;
  for (const [size, word] of groups) {
    if (rest >= size) {
      out.push(...belowThousand(Math.floor(rest / size)), word);
      rest %= size;
    }
  }
  if (rest > 0) out.push(...belowThousand(rest));
  return out;
}

function belowThousand(n: number): PromptName[] {
  const out: PromptName[] = [];
  if (n >= 100) {
    out.push(`digits/${Math.floor(n / 100)}`, 'digits/hundred');
    n %= 100;
  }
  if (n > 20) {
    out.push(`digits/${n - (n % 10)}`);
    n %= 10;
  }
  if (n > 0) out.push(`digits/${n}`);
  return out;
}
