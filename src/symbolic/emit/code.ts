/** Indented source text for the code emitters (Level G: gramCode.ts; Level P: src/paper/emit.ts). */
export class Code {
  readonly lines: string[] = [];
  /** depth: the indentation level of the first line (1 for a function body) */
  constructor(private depth = 0) {}
  /** the current indentation level (blocks open) */
  get level(): number {
    return this.depth;
  }
  line(s = ''): void {
    this.lines.push(s === '' ? '' : '  '.repeat(this.depth) + s);
  }
  /** opens a block; open('') opens a bare block */
  open(s: string): void {
    this.line(s === '' ? '{' : `${s} {`);
    this.depth++;
  }
  close(s = '}'): void {
    this.depth--;
    this.line(s);
  }
}
