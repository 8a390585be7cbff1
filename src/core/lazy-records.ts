import { NAME_RE } from './names.js';

/** A record (index-model.ts's PushRecord; generic here, so that this module imports nothing of index-model). */
type Rec = object;

/*
 * The records of an index read for a change, parsed only as the change reads them. On a store of 10 000 records a
 * change reads a few; parsing, checking and writing back the others is most of what it would cost otherwise.
 *
 * The object behaves as a plain Record<string, PushRecord> (get, set, delete, `in`, Object.keys/values/entries,
 * spread, JSON.stringify): a record is parsed the first time it is read. From then on it is "touched": the caller
 * may change it in place, so it is written from its object. A record never read keeps the text it was read as,
 * and serializeIndex writes that text back as it is (forEachRecordLine). What a plain object has and this has not:
 * structuredClone (it is a Proxy: clone a record, not the records), Object.freeze, and a value in
 * Object.getOwnPropertyDescriptor of a record not yet read (so that Object.keys parses nothing).
 *
 * Only for an index this tool wrote itself and nothing has changed since (parseOwnIndex's condition): the text of a
 * record is not checked before it is parsed, as parseOwnIndex does not check it.
 */

interface Slot {
  readonly name: string;
  /** The record's line as read (`"name":{…}`), and where its JSON starts in it; '' for a record set by the caller. */
  readonly line: string;
  readonly json: number;
  /** Where the line starts in the text read (-1: a record set by the caller). */
  readonly start: number;
  /** Its place among the records: the line number for a record read (what the summary's lines follow), else later. */
  readonly order: number;
  /** The record once read (then touched), or the record the caller set. */
  value: Rec | undefined;
}

interface Source {
  /** Shared by a copy (copyRecords): the text, its lines' slots in order, and the slots that have a value. */
  readonly text: string;
  readonly lines: readonly Slot[];
  readonly touched: Set<Slot>;
  readonly parse: (name: string, json: string) => Rec;
  next: number;
}

interface View {
  readonly source: Source;
  /** The slots by name, in an object without prototype: its keys come in the order a plain object's would. */
  readonly slots: Record<string, Slot>;
}

const VIEW = Symbol('lazy records');

/**
 * The records whose lines, `"name":{…}` each followed by ",\n" (the last by "\n"), are `text` from `from` to `to`,
 * parsed on first read by `parse` (its errors thrown to the reader); null when the text is not so laid out.
 */
export function lazyRecords<R extends Rec>(
  text: string,
  from: number,
  to: number,
  parse: (name: string, json: string) => R,
): Record<string, R> | null {
  const lines: Slot[] = [];
  const slots: Record<string, Slot> = Object.create(null);
  for (let start = from; start < to;) {
    let end = text.indexOf('\n', start);
    if (end < 0 || end >= to) end = to;
    const last = end === to;
    if (!last && text.charCodeAt(end - 1) !== 44 /* , */) return null;
    const line = text.slice(start, last ? end : end - 1);
    const nameEnd = line.indexOf('":', 1);
    const name = line.slice(1, nameEnd);
    if (line.charCodeAt(0) !== 34 /* " */ || !NAME_RE.test(name) || name in slots) return null;
    const slot: Slot = { name, line, json: nameEnd + 2, start, order: lines.length, value: undefined };
    lines.push(slot);
    slots[name] = slot;
    start = end + 1;
  }
  return view({ source: { text, lines, touched: new Set(), parse, next: lines.length }, slots }) as Record<string, R>;
}

function view(v: View): Record<string, Rec> {
  const { source, slots } = v;
  const valueOf = (slot: Slot): Rec => {
    if (slot.value === undefined) {
      slot.value = source.parse(slot.name, slot.line.slice(slot.json));
      source.touched.add(slot);
    }
    return slot.value;
  };
  const put = (name: string, value: Rec) => {
    const order = slots[name]?.order ?? source.next++; // an object keeps a replaced key where it was
    const slot: Slot = { name, line: '', json: 0, start: -1, order, value };
    slots[name] = slot;
    source.touched.add(slot);
  };
  return new Proxy({} as Record<string, Rec>, {
    get(target, key, receiver) {
      if (key === VIEW) return v;
      if (typeof key === 'string') {
        const slot = slots[key];
        if (slot !== undefined) return valueOf(slot);
      }
      return Reflect.get(target, key, receiver);
    },
    set(_target, key, value) {
      if (typeof key !== 'string') return false;
      put(key, value as Rec);
      return true;
    },
    defineProperty(_target, key, descriptor) {
      if (typeof key !== 'string' || !('value' in descriptor)) return false;
      put(key, descriptor.value as Rec);
      return true;
    },
    deleteProperty(_target, key) {
      if (typeof key === 'string') delete slots[key];
      return true;
    },
    has(target, key) {
      return typeof key === 'string' && key in slots ? true : Reflect.has(target, key);
    },
    ownKeys() {
      return Object.keys(slots);
    },
    // Object.keys and hasOwn need no value: a record is parsed only when read (get).
    getOwnPropertyDescriptor(_target, key) {
      const slot = typeof key === 'string' ? slots[key] : undefined;
      return slot === undefined
        ? undefined
        : { configurable: true, enumerable: true, writable: true, value: slot.value };
    },
  });
}

const viewOf = (records: Record<string, Rec>): View | undefined => (records as unknown as { [VIEW]?: View })[VIEW];

/**
 * A copy of `records` to change without changing them (planImport's copy on write): records set or deleted in the
 * copy are not in the original; a record read from either is the same object, parsed once.
 */
export function copyRecords<R extends Rec>(records: Record<string, R>): Record<string, R> {
  const v = viewOf(records);
  return v === undefined
    ? { ...records }
    : (view({ source: v.source, slots: Object.assign(Object.create(null), v.slots) }) as Record<string, R>);
}

/**
 * Calls `fn` for each record in order with its name and, when it has not been read since, the line it was read as
 * and that line's number (else null and -1): what can be written again as it is.
 */
export function forEachRecordLine<R extends Rec>(
  records: Record<string, R>,
  fn: (name: string, line: string | null, lineNumber: number) => void,
): void {
  const v = viewOf(records);
  if (v === undefined) {
    for (const name of Object.keys(records)) fn(name, null, -1);
    return;
  }
  for (const name of Object.keys(v.slots)) {
    const slot = v.slots[name]!;
    if (slot.value === undefined) fn(name, slot.line, slot.order);
    else fn(name, null, -1);
  }
}

/**
 * The records whose JSON may hold `needle` (text as JSON.stringify writes it: a key id, a fingerprint, a quoted
 * topic), in the order of the index: every record of plain records, else those read or set (they may have changed
 * since) and those whose text holds it. A superset: the caller still tests each.
 */
export function recordsMentioning<R extends Rec>(records: Record<string, R>, needle: string): R[] {
  const v = viewOf(records);
  if (v === undefined) return Object.values(records);
  const { source, slots } = v;
  const found: Slot[] = [];
  for (const slot of source.touched) if (slots[slot.name] === slot) found.push(slot);
  const { text, lines } = source;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
    const slot = lineAt(lines, at);
    if (slot === undefined || at >= slot.start + slot.line.length) continue; // in the vendors, or between lines
    if (slot.value === undefined && slots[slot.name] === slot) found.push(slot);
    at = slot.start + slot.line.length; // the next match in another line
  }
  return found.sort(inKeyOrder).map((slot) => records[slot.name] as R);
}

/** A name a plain object lists first, in numeric order: an array index (a canonical integer below 2^32 - 1). */
const isArrayIndex = (name: string) => /^(0|[1-9]\d{0,9})$/.test(name) && Number(name) < 2 ** 32 - 1;

/** The order of a plain object's keys (Object.keys): array indices ascending, then the others as they were added. */
function inKeyOrder(a: Slot, b: Slot): number {
  const [ai, bi] = [isArrayIndex(a.name), isArrayIndex(b.name)];
  if (ai && bi) return Number(a.name) - Number(b.name);
  if (ai !== bi) return ai ? -1 : 1;
  return a.order - b.order;
}

/** The line that offset `at` of the text falls in, if any (the last starting at or before it). */
function lineAt(lines: readonly Slot[], at: number): Slot | undefined {
  if (lines.length === 0 || at < lines[0]!.start) return undefined;
  let lo = 0;
  let hi = lines.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lines[mid]!.start <= at) lo = mid;
    else hi = mid - 1;
  }
  return lines[lo];
}
