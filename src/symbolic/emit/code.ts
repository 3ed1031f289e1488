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

/**
 * The body of one generated function that records what it uses as it is printed: workspace
 * fields (`ws`), state-block offsets (`offset`) and locals defined where first used (`local`),
 * so the function can destructure exactly those (no scan of the printed text). The Level G and
 * Level T emitters (gramCode.ts, typeCode.ts) extend it.
 */
export class RecordingBody<Field extends string, Block extends string> {
  /** the body's lines, one level inside the function */
  readonly code = new Code(1);
  protected readonly fields = new Set<Field>();
  protected readonly offsets = new Set<Block>();
  private readonly locals = new Set<string>();

  /** @param emitter named in the error when a local is first used inside a block */
  constructor(private readonly emitter: string) {}

  ws(name: Field): string {
    this.fields.add(name);
    return name;
  }

  /** `o_v`: the offset of block v in a state */
  offset(v: Block): string {
    this.offsets.add(v);
    return `o_${v}`;
  }

  /**
   * A local of the body, defined by `define` (which prints its lines here) where it is first
   * used; the use must then be outside any block, or the definition would be scoped to it.
   */
  local(name: string, define: () => void): string {
    if (this.locals.has(name)) return name;
    if (this.code.level !== 1) throw new Error(`${this.emitter}: ${name} is first used inside a block`);
    this.locals.add(name);
    define();
    return name;
  }
}
