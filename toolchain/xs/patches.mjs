// Our edits to the XS engine sources, applied by toolchain/xs/build.mjs after the tarball is verified.
// Each edit names the exact text it replaces and how many times it must occur, so an engine upgrade that
// moves the code fails loudly instead of building an unpatched engine.

export const patches = [
  {
    name: 'bigint64-getters-read-8-bytes',
    // design.md §2: under mxMisalignedSettersCrash (required on 32-bit ARM, where unaligned 64-bit loads raise
    // SIGBUS) XS 13.3.0's BigInt64/BigUint64 getters load with c_read32, i.e. only the low 32 bits of the
    // 64-bit value. Copy all 8 bytes instead, as the Float64 getters already do.
    file: 'moddable/xs/sources/xsDataView.c',
    find: '\tvalue = c_read32(data->value.arrayBuffer.address + offset);\n#else\n\tvalue = *((txS8*)',
    replace: '\tc_memcpy(&value, data->value.arrayBuffer.address + offset, sizeof(value));\n#else\n\tvalue = *((txS8*)',
    count: 1,
  },
  {
    name: 'biguint64-getter-reads-8-bytes',
    file: 'moddable/xs/sources/xsDataView.c',
    find: '\tvalue = c_read32(data->value.arrayBuffer.address + offset);\n#else\n\tvalue = *((txU8*)',
    replace: '\tc_memcpy(&value, data->value.arrayBuffer.address + offset, sizeof(value));\n#else\n\tvalue = *((txU8*)',
    count: 1,
  },
];
