// A small RFC 4180 CSV reader (quoted fields, "" escapes, CRLF) and column helpers.

export interface Table {
  header: string[];
  rows: string[][];
}

function records(text: string): string[][] {
  const out: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field === "") quoted = true;
    else if (c === ",") {
      row.push(field);
      field = "";
    } else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(field);
      out.push(row);
      row = [];
      field = "";
    } else field += c;
  }
  if (field !== "" || row.length) {
    row.push(field);
    out.push(row);
  }
  return out.filter((r) => r.some((f) => f.trim() !== ""));
}

const isNumber = (s: string): boolean => s.trim() !== "" && Number.isFinite(Number(s));

/** Parse CSV text; a first row with any non-numeric field is the header, else columns are
 * named column_1, column_2, ... Every row must have the header's width. */
export function parseCsv(text: string): Table {
  const all = records(text);
  if (!all.length) throw new Error("the CSV is empty");
  const first = all[0].map((f) => f.trim());
  const hasHeader = first.some((f) => !isNumber(f));
  const header = hasHeader ? first : first.map((_, j) => `column_${j + 1}`);
  const rows = hasHeader ? all.slice(1) : all;
  rows.forEach((r, i) => {
    if (r.length !== header.length) {
      throw new Error(`row ${i + 1} has ${r.length} fields, the header ${header.length}`);
    }
  });
  if (!rows.length) throw new Error("the CSV has a header but no rows");
  return { header, rows };
}

/** Column *name* as numbers; an error names the first row that is not a number. */
export function numericColumn(t: Table, name: string): number[] {
  const j = t.header.indexOf(name);
  if (j < 0) throw new Error(`no column named ${name}`);
  return t.rows.map((r, i) => {
    const v = Number(r[j]);
    if (r[j].trim() === "" || !Number.isFinite(v)) {
      throw new Error(`column ${name}, row ${i + 1}: ${JSON.stringify(r[j])} is not a number`);
    }
    return v;
  });
}

export function textColumn(t: Table, name: string): string[] {
  const j = t.header.indexOf(name);
  if (j < 0) throw new Error(`no column named ${name}`);
  return t.rows.map((r) => r[j].trim());
}

export function isNumericColumn(t: Table, name: string): boolean {
  const j = t.header.indexOf(name);
  return j >= 0 && t.rows.every((r) => isNumber(r[j]));
}

/** Numbers from pasted text: separated by commas, spaces or new lines. */
export function parseNumberList(text: string, what: string): number[] {
  const parts = text.split(/[\s,;]+/).filter((p) => p !== "");
  return parts.map((p, i) => {
    const v = Number(p);
    if (!Number.isFinite(v)) throw new Error(`${what}, value ${i + 1}: ${JSON.stringify(p)} is not a number`);
    return v;
  });
}

/** CSV text of named columns (numbers written in full precision). */
export function toCsv(header: string[], columns: Array<ArrayLike<number | string>>): string {
  const n = columns.length ? columns[0].length : 0;
  const lines = [header.join(",")];
  for (let i = 0; i < n; i++) lines.push(columns.map((c) => String(c[i])).join(","));
  return lines.join("\n") + "\n";
}
