/**
 * A server's text as a message may quote it: every form of the secrets given blanked out as `placeholder`, each
 * run of control characters and line separators one space (one line), at most `max` characters (then "…").
 */
export function serverText(text: string, secrets: readonly string[], placeholder: string, max: number): string {
  let out = text;
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join(placeholder);
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  out = out.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return out.length > max ? `${out.slice(0, max)}…` : out;
}
