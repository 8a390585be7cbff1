/**
 * Code points that steer a terminal or change what it shows: C0 controls, DEL, C1 controls, the bidi controls
 * (U+061C, U+200E/F, U+202A-202E, U+2066-2069), zero-width and other invisible format characters, the line and
 * paragraph separators, the BOM and the interlinear annotation characters. One list, for what the tool prints
 * (src/output/output.ts escapes them) and for what it keeps (an audit entry, a record's owner and note refuse them).
 */
const C0 = '\\u0000-\\u001f';
/** C0 without tab (U+0009) and newline (U+000A): text made of lines. */
const C0_BUT_LINES = '\\u0000-\\u0008\\u000b-\\u001f';
const REST = '\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u206f\\ufeff\\ufff9-\\ufffb';

/** Any unsafe code point (test with it: not global). */
export const UNSAFE_TEXT = new RegExp(`[${C0}${REST}]`);

/** A global pattern of the unsafe code points, for replacing them: `lines` keeps tab and newline, `json` leaves C0 (JSON.stringify escapes it). */
export function unsafeTextPattern(keep: 'nothing' | 'lines' | 'json' = 'nothing'): RegExp {
  return new RegExp(`[${keep === 'nothing' ? C0 : keep === 'lines' ? C0_BUT_LINES : ''}${REST}]`, 'g');
}
