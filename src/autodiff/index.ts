/** Float64 reverse-mode autodiff over small dense tensors (the gradient oracle). */
export { Tensor, leaf, constant, scalarValue } from './tensor.js';
export { matmul, transpose, gatherColumns, reshape, concat } from './linalg.js';
export { add, sub, mul, scale, exp, log, logisticLoss } from './elementwise.js';
export { sum, sumAxis, divideBroadcast, softmax } from './reduce.js';
