/**
 * Prints a mathjs expression tree as JavaScript source, so generated code evaluates the verified
 * formula directly (mathjs's own compile().evaluate() is 36-310x slower than plain JS on
 * these formulas, docs/levels.md#level-g, and must not run in a hot loop). Only the node
 * kinds the per-sample formulas use are accepted; anything else is an error, never a silent guess.
 */
import { ConstantNode, FunctionNode, MathNode, OperatorNode, ParenthesisNode, SymbolNode } from 'mathjs';

const BINARY: Readonly<Record<string, string>> = { add: '+', subtract: '-', multiply: '*', divide: '/' };
const FUNCTIONS: Readonly<Record<string, string>> = {
  exp: 'Math.exp',
  log: 'Math.log',
  log1p: 'Math.log1p',
  abs: 'Math.abs',
  max: 'Math.max',
};

/** `symbols` maps each template symbol to the JS expression that holds its value. */
export function mathToJs(node: MathNode, symbols: Readonly<Record<string, string>>): string {
  const rec = (n: MathNode): string => {
    if ((n as ParenthesisNode).isParenthesisNode) return rec((n as ParenthesisNode).content);
    if ((n as ConstantNode).isConstantNode) {
      const v = (n as ConstantNode).value;
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`mathToJs: unsupported constant ${String(v)}`);
      return String(v);
    }
    if ((n as SymbolNode).isSymbolNode) {
      const name = (n as SymbolNode).name;
      const js = symbols[name];
      if (js === undefined) throw new Error(`mathToJs: no JavaScript for symbol '${name}'`);
      return js;
    }
    if ((n as OperatorNode).isOperatorNode) {
      const op = n as OperatorNode;
      if (op.fn === 'unaryMinus' && op.args.length === 1) return `(-${rec(op.args[0])})`;
      const sym = BINARY[op.fn];
      if (sym && op.args.length === 2) return `(${rec(op.args[0])} ${sym} ${rec(op.args[1])})`;
      throw new Error(`mathToJs: unsupported operator ${op.fn}`);
    }
    if ((n as FunctionNode).isFunctionNode) {
      const fnNode = n as FunctionNode;
      const js = FUNCTIONS[fnNode.fn.name];
      if (!js) throw new Error(`mathToJs: unsupported function ${fnNode.fn.name}`);
      return `${js}(${fnNode.args.map(rec).join(', ')})`;
    }
    throw new Error(`mathToJs: unsupported node type ${n.type}`);
  };
  return rec(node);
}
