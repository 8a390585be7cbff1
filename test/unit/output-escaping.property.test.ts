import fc from 'fast-check';
import { capturedStreams } from '../helpers/deps.js';
import { describe, expect, it } from 'vitest';
import { Output, colorStyle, escapeControl, jsonText, plainStyle } from '../../src/output/output.js';

// eslint-disable-next-line no-control-regex -- finding control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]/;
const SGR = new RegExp(String.raw`\u001b\[\d+m`, 'g');
/** Strings rich in what matters: controls, bidi, separators, backslashes, ordinary text. */
const hostile = fc.string({
  unit: fc.oneof(
    fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('\u202e', '\u2066', '\u2069', '\u200b', '\u2028', '\ufeff', '\u061c', '\\', 'é', '✓', '\uE000'),
    fc.string({ minLength: 1, maxLength: 1 }),
  ),
  maxLength: 40,
});

function capture(style = plainStyle, json = false) {
  const { stdout, stderr, out, err } = capturedStreams();
  return { output: new Output({ json, quiet: false, style, stdout, stderr }), text: () => out() + err() };
}

describe('output escaping (property)', () => {
  it('an escaped line holds no unsafe code point and no line break, and safe text passes unchanged', () => {
    fc.assert(
      fc.property(hostile, (text) => {
        const escaped = escapeControl(text);
        expect(escaped).not.toMatch(UNSAFE);
        expect(escaped).not.toContain('\n');
        if (!UNSAFE.test(text)) expect(escaped).toBe(text);
      }),
      { numRuns: 3000 },
    );
  });

  it('every Output method writes one line per call with nothing unsafe in it, colors on or off', async () => {
    const color = await colorStyle();
    fc.assert(
      fc.property(hostile, fc.boolean(), (text, colored) => {
        const { output, text: written } = capture(colored ? color : plainStyle);
        const s = output.style;
        output.data(`${s.bold('head')} ${text}`);
        output.info(s.green(text));
        output.warn(text);
        output.error(`${s.red('FAIL')} ${text}`);
        const all = written();
        expect(all.split('\n')).toHaveLength(5);
        expect(all.replace(SGR, '').replace(/\n/g, '')).not.toMatch(UNSAFE);
        if (!colored) expect(all).not.toContain('\u001b');
      }),
      { numRuns: 1000 },
    );
  });

  it('--json: the text holds no unsafe code point outside JSON escapes and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.dictionary(hostile, hostile, { maxKeys: 4 }), (value) => {
        const text = jsonText(value);
        expect(text.replace(/\n/g, '')).not.toMatch(UNSAFE);
        expect(JSON.parse(text)).toEqual(value);
      }),
      { numRuns: 2000 },
    );
  });
});
