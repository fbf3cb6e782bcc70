import { readFileSync } from 'node:fs';
import { rms, toneAmplitude } from './audio.js';

/** The 16-bit PCM samples of a WAV file (a Debian prompt: 8 kHz mono). */
export function wavSamples(path: string): Int16Array {
  const file = readFileSync(path);
  let offset = 12;
  while (offset + 8 <= file.length) {
    const id = file.toString('ascii', offset, offset + 4);
    const size = file.readUInt32LE(offset + 4);
    if (id === 'data') {
      const data = file.subarray(offset + 8, offset + 8 + size);
      return new Int16Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.length - (data.length % 2)));
    }
    offset += 8 + size + (size % 2);
  }
  throw new Error(`no data chunk in ${path}`);
}

/**
 * How well a 0.4 s stretch of a prompt (its loudest, or the one starting at
 * `fromMs`) is found in what a caller heard: the best normalized
 * cross-correlation over every alignment, 1 for an exact copy. G.711 coding
 * keeps a real copy above 0.9; another recording of other words stays far
 * below.
 */
export function promptMatch(heard: Int16Array, promptPath: string, fromMs?: number): number {
  return locatePrompt(heard, promptPath, fromMs).score;
}

/** `promptMatch`, with where in `heard` (samples) the prompt's start lines up (-1 when nothing matched). */
export function locatePrompt(heard: Int16Array, promptPath: string, fromMs?: number): { score: number; at: number } {
  const prompt = wavSamples(promptPath);
  const length = 3200;
  let start = 0;
  if (fromMs !== undefined) {
    start = Math.min(Math.round((fromMs * 8000) / 1000), Math.max(0, prompt.length - length));
  } else {
    let best = 0;
    for (let s = 0; s + length <= prompt.length; s += 400) {
      const energy = rms(prompt.subarray(s, s + length));
      if (energy > best) {
        best = energy;
        start = s;
      }
    }
  }
  const piece = prompt.subarray(start, start + length);
  let pieceNorm = 0;
  for (const v of piece) pieceNorm += v * v;
  let bestCorrelation = 0;
  let at = -1;
  for (let lag = 0; lag + piece.length <= heard.length; lag++) {
    let dot = 0;
    let norm = 0;
    for (let i = 0; i < piece.length; i++) {
      const h = heard[lag + i]!;
      dot += h * piece[i]!;
      norm += h * h;
    }
    const correlation = norm > 0 ? dot / Math.sqrt(norm * pieceNorm) : 0;
    if (correlation > bestCorrelation) {
      bestCorrelation = correlation;
      at = lag - start;
    }
  }
  return { score: bestCorrelation, at };
}

/** The strongest `frequency` level over 400 ms windows (200 ms apart): a burst shows even in a long stretch. */
export function peakToneLevel(samples: Int16Array, frequency: number): number {
  let peak = 0;
  for (let s = 0; s + 3200 <= samples.length; s += 1600) peak = Math.max(peak, toneAmplitude(samples.subarray(s, s + 3200), frequency));
  return Math.round(peak);
}
