/** NumPy .npy / .npz input and output (atomic writes, validating readers). */
export { crc32 } from './crc32.js';
export { encodeNpy, decodeNpy, f8Array, i4Array, type NpyArray, type NpyDtype } from './npy.js';
export { buildStoredZip, readZip, type ZipEntry } from './zip.js';
export { writeFileAtomic, writeBytesAtomic, tempPathFor } from './atomic.js';
export { encodeNpz, decodeNpz, writeNpz, readNpz, type NpzEntries } from './npz.js';
export {
  writeParamsNpz,
  readParamsNpz,
  writeDatasetNpz,
  readDatasetNpz,
  writeGradNpz,
  readGradNpz,
  type Dims,
  type GradRecord,
} from './files.js';
