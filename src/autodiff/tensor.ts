/**
 * A float64 reverse-mode autodiff tape, micrograd-style.
 *
 * Every op creates a new Tensor holding its value, its parents and a `backwardRule` closure
 * that adds (chain rule) the tensor's `grad` into its parents' `grad`. `backward()` on a scalar
 * seeds d(out)/d(out) = 1, orders the graph topologically and runs the rules in reverse order,
 * so each rule runs once, after every consumer of its output has contributed to `grad`.
 *
 * This is an ORACLE: clarity over speed. Ops allocate fresh buffers; nothing here is a hot loop.
 * Shapes are 1-D `[n]` or 2-D `[rows, cols]` (row-major); a scalar is `[1]`.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly data: Float64Array;
  /** d(final scalar)/d(this), accumulated by backward(); zeros until then. */
  readonly grad: Float64Array;
  readonly parents: readonly Tensor[];
  /** Adds this.grad pushed through the op's local derivative into the parents' grad. */
  backwardRule: (() => void) | null;

  constructor(shape: readonly number[], data: Float64Array, parents: readonly Tensor[] = []) {
    if (shape.length < 1 || shape.length > 2) {
      throw new RangeError(`Tensor: shape must be 1-D or 2-D, got [${shape.join(', ')}]`);
    }
    for (const s of shape) {
      if (!Number.isInteger(s) || s < 1) {
        throw new RangeError(`Tensor: shape entries must be positive integers, got [${shape.join(', ')}]`);
      }
    }
    const size = shape.reduce((acc, s) => acc * s, 1);
    if (data.length !== size) {
      throw new RangeError(`Tensor: data has ${data.length} entries, shape [${shape.join(', ')}] needs ${size}`);
    }
    this.shape = [...shape];
    this.data = data;
    this.grad = new Float64Array(size);
    this.parents = parents;
    this.backwardRule = null;
  }

  get size(): number {
    return this.data.length;
  }

  get rows(): number {
    return this.shape[0];
  }

  /** Columns of a 2-D tensor (1 for a 1-D tensor, seen as a column). */
  get cols(): number {
    return this.shape.length === 2 ? this.shape[1] : 1;
  }

  /**
   * Reverse sweep from this scalar. Gradients ACCUMULATE into every tensor of the graph
   * (as in micrograd); build a fresh graph per evaluation, or zero the leaves' grad first.
   */
  backward(): void {
    if (this.size !== 1) {
      throw new RangeError(`backward: output must be a scalar (size 1), got shape [${this.shape.join(', ')}]`);
    }
    const order = topologicalOrder(this);
    this.grad[0] += 1;
    for (let i = order.length - 1; i >= 0; i--) {
      order[i].backwardRule?.();
    }
  }
}

/**
 * Parents-before-children order of the graph reachable from `root`, by an iterative
 * post-order DFS (no recursion: a loss summed over many samples makes deep chains).
 */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: Array<{ node: Tensor; next: number }> = [{ node: root, next: 0 }];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next < top.node.parents.length) {
      const parent = top.node.parents[top.next++];
      if (!visited.has(parent)) {
        visited.add(parent);
        stack.push({ node: parent, next: 0 });
      }
    } else {
      order.push(top.node);
      stack.pop();
    }
  }
  return order;
}

/** A leaf holding a COPY of `values` (a trainable input: its grad is what we are after). */
export function leaf(values: ArrayLike<number>, shape: readonly number[]): Tensor {
  return new Tensor(shape, Float64Array.from(values));
}

/** A leaf used as data (labels, fixed vectors). Same as `leaf`; the name documents intent. */
export const constant = leaf;

export function scalarValue(t: Tensor): number {
  if (t.size !== 1) {
    throw new RangeError(`scalarValue: tensor has shape [${t.shape.join(', ')}], expected a scalar`);
  }
  return t.data[0];
}
