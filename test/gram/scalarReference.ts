/**
 * The bit-level oracle of the Level G kernels: the vector field and GD map as the scalar loops
 * that src/symbolic/emit/gramCode.ts printed before the terms became kernel calls
 * (src/gram/kernels.ts), kept verbatim apart from the names. Each output element gets its terms
 * in the derived order, products with Gam in the order of the nonzero list (b-major, a-minor),
 * k x k blocks accumulated from a zero-filled output. The generated code must reproduce these
 * results bit for bit (test/gram/kernelField.test.ts).
 */

/** What the scalar loops read: Gam, gu of the state, the nonzero list, two k x k scratches. */
export interface ScalarWorkspace {
  readonly k: number;
  readonly m1: number;
  readonly Gam: Float64Array;
  readonly gu: Float64Array;
  readonly nzRow: Int32Array;
  readonly nzCol: Int32Array;
  readonly nnz: number;
  readonly T1: Float64Array;
  readonly T2: Float64Array;
}

/**
 * Gradient flow dy/dt at state y, written into out, from Gam and gu (w) of the sampleKernel
 * call (with wantGrad) at the same y. Allocation-free.
 */
export function scalarField(w: ScalarWorkspace, y: Float64Array, out: Float64Array): void {
  const { k, m1, Gam, gu, nzRow, nzCol, nnz, T1 } = w;
  const o_S = 0;
  const o_A = k * k;
  const o_B = 2 * k * k;
  const o_C = 3 * k * k;
  const o_u = 4 * k * k;
  const o_s = 4 * k * k + k;
  const o_end = 4 * k * k + k + 1;
  const sVal = y[o_s];
  out.fill(0, 0, o_end);
  // sc0 = (gu^T u)
  let sc0 = 0;
  {
    let acc = 0;
    for (let l = 0; l < k; l++) acc += gu[l] * y[o_u + l];
    sc0 += acc;
  }
  // dS/dt = -B Gam - Gam A
  // dS/dt -= B Gam
  {
    const coef = -1;
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = coef * Gam[b * k + a];
      for (let i = 0; i < k; i++) out[o_S + i * k + a] += g * y[o_B + b * k + i];
    }
  }
  // dS/dt -= Gam A
  {
    const coef = -1;
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = coef * Gam[b * k + a];
      for (let j = 0; j < k; j++) out[o_S + b * k + j] += g * y[o_A + a * k + j];
    }
  }
  // dA/dt = -Gam^T S - S^T Gam
  // dA/dt -= (X + X^T), X = Gam^T S
  {
    const coef = -1;
    T1.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T1[a * k + j] += g * y[o_S + b * k + j];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_A + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // dB/dt = -Gam S^T - S Gam^T
  // dB/dt -= (X + X^T), X = Gam S^T
  {
    const coef = -1;
    T1.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T1[b * k + j] += g * y[o_S + j * k + a];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_B + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // dC/dt = -gu u^T - u gu^T
  // dC/dt -= (X + X^T), X = gu u^T
  {
    const coef = -1;
    T1.fill(0, 0, k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        T1[i * k + j] += gu[i] * y[o_u + j];
      }
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_C + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // du/dt = -s gu - m1 C gu
  // du/dt -= m1 C gu
  {
    const coef = -m1;
    for (let i = 0; i < k; i++) {
      let acc = 0;
      for (let l = 0; l < k; l++) acc += y[o_C + i * k + l] * gu[l];
      out[o_u + i] += coef * acc;
    }
  }
  // du/dt -= s gu
  {
    const coef = -sVal;
    for (let i = 0; i < k; i++) {
      out[o_u + i] += coef * gu[i];
    }
  }
  // ds/dt = -2 m1 (gu^T u)
  // ds/dt -= 2 m1 (gu^T u)
  out[o_s] += -2 * sc0 * m1;
}

/**
 * State after one full-batch GD step with rate eta, written into out (out must not be y),
 * from Gam and gu (w) of the sampleKernel call at y. Exact (not a Taylor expansion):
 * Q' = Q - eta K Gam etc. make every Gram variable a quadratic polynomial in eta.
 */
export function scalarGdMap(w: ScalarWorkspace, eta: number, y: Float64Array, out: Float64Array): void {
  const { k, m1, Gam, gu, nzRow, nzCol, nnz, T1, T2 } = w;
  const o_S = 0;
  const o_A = k * k;
  const o_B = 2 * k * k;
  const o_C = 3 * k * k;
  const o_u = 4 * k * k;
  const o_s = 4 * k * k + k;
  const o_end = 4 * k * k + k + 1;
  const sVal = y[o_s];
  out.fill(0, 0, o_end);
  // sc0 = (gu^T u)
  let sc0 = 0;
  {
    let acc = 0;
    for (let l = 0; l < k; l++) acc += gu[l] * y[o_u + l];
    sc0 += acc;
  }
  // sc1 = (gu^T C gu)
  let sc1 = 0;
  {
    T1.fill(0, 0, k);
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let l = 0; l < k; l++) acc += gu[l] * y[o_C + l * k + j];
      T1[j] += acc;
    }
    let acc = 0;
    for (let l = 0; l < k; l++) acc += T1[l] * gu[l];
    sc1 += acc;
  }
  // S' = S - eta (B Gam + Gam A) + eta^2 Gam S^T Gam
  // S' += S
  {
    const coef = 1;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_S + i * k + j] += coef * y[o_S + i * k + j];
      }
    }
  }
  // S' += eta^2 Gam S^T Gam
  {
    const coef = eta * eta;
    T1.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T1[b * k + j] += g * y[o_S + j * k + a];
    }
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = coef * Gam[b * k + a];
      for (let i = 0; i < k; i++) out[o_S + i * k + a] += g * T1[i * k + b];
    }
  }
  // S' -= eta B Gam
  {
    const coef = -eta;
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = coef * Gam[b * k + a];
      for (let i = 0; i < k; i++) out[o_S + i * k + a] += g * y[o_B + b * k + i];
    }
  }
  // S' -= eta Gam A
  {
    const coef = -eta;
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = coef * Gam[b * k + a];
      for (let j = 0; j < k; j++) out[o_S + b * k + j] += g * y[o_A + a * k + j];
    }
  }
  // A' = A - eta (Gam^T S + S^T Gam) + eta^2 Gam^T B Gam
  // A' += A
  {
    const coef = 1;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_A + i * k + j] += coef * y[o_A + i * k + j];
      }
    }
  }
  // A' += eta^2 Gam^T B Gam
  {
    const coef = eta * eta;
    T1.fill(0, 0, k * k);
    T2.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T2[a * k + j] += g * y[o_B + b * k + j];
    }
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let i = 0; i < k; i++) T1[i * k + a] += g * T2[i * k + b];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_A + i * k + j] += 0.5 * coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // A' -= eta (X + X^T), X = Gam^T S
  {
    const coef = -eta;
    T1.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T1[a * k + j] += g * y[o_S + b * k + j];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_A + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // B' = B - eta (Gam S^T + S Gam^T) + eta^2 Gam A Gam^T
  // B' += B
  {
    const coef = 1;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_B + i * k + j] += coef * y[o_B + i * k + j];
      }
    }
  }
  // B' += eta^2 Gam A Gam^T
  {
    const coef = eta * eta;
    T1.fill(0, 0, k * k);
    T2.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T2[b * k + j] += g * y[o_A + a * k + j];
    }
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let i = 0; i < k; i++) T1[i * k + b] += g * T2[i * k + a];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_B + i * k + j] += 0.5 * coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // B' -= eta (X + X^T), X = Gam S^T
  {
    const coef = -eta;
    T1.fill(0, 0, k * k);
    for (let e = 0; e < nnz; e++) {
      const b = nzRow[e];
      const a = nzCol[e];
      const g = Gam[b * k + a];
      for (let j = 0; j < k; j++) T1[b * k + j] += g * y[o_S + j * k + a];
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_B + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // C' = C - eta (gu u^T + u gu^T) + eta^2 s gu gu^T
  // C' += C
  {
    const coef = 1;
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_C + i * k + j] += coef * y[o_C + i * k + j];
      }
    }
  }
  // C' += eta^2 s gu gu^T
  {
    const coef = eta * eta * sVal;
    T1.fill(0, 0, k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        T1[i * k + j] += gu[i] * gu[j];
      }
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_C + i * k + j] += 0.5 * coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // C' -= eta (X + X^T), X = gu u^T
  {
    const coef = -eta;
    T1.fill(0, 0, k * k);
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        T1[i * k + j] += gu[i] * y[o_u + j];
      }
    }
    for (let i = 0; i < k; i++) {
      for (let j = 0; j < k; j++) {
        out[o_C + i * k + j] += coef * (T1[i * k + j] + T1[j * k + i]);
      }
    }
  }
  // u' = u - eta (s gu + m1 C gu) + eta^2 m1 (gu^T u) gu
  // u' += u
  {
    const coef = 1;
    for (let i = 0; i < k; i++) {
      out[o_u + i] += coef * y[o_u + i];
    }
  }
  // u' += eta^2 m1 (gu^T u) gu
  {
    const coef = sc0 * eta * eta * m1;
    for (let i = 0; i < k; i++) {
      out[o_u + i] += coef * gu[i];
    }
  }
  // u' -= eta m1 C gu
  {
    const coef = -eta * m1;
    for (let i = 0; i < k; i++) {
      let acc = 0;
      for (let l = 0; l < k; l++) acc += y[o_C + i * k + l] * gu[l];
      out[o_u + i] += coef * acc;
    }
  }
  // u' -= eta s gu
  {
    const coef = -eta * sVal;
    for (let i = 0; i < k; i++) {
      out[o_u + i] += coef * gu[i];
    }
  }
  // s' = s - 2 eta m1 (gu^T u) + eta^2 m1^2 (gu^T C gu)
  // s' += eta^2 m1^2 (gu^T C gu)
  out[o_s] += sc1 * eta * eta * m1 * m1;
  // s' -= 2 eta m1 (gu^T u)
  out[o_s] += -2 * sc0 * eta * m1;
  // s' += s
  out[o_s] += sVal;
}
