#!/usr/bin/env node
// test/oracle/run_ort.js - run an ONNX model on CPU with ONNX Runtime.
//
// TEST-ONLY oracle for dist-opt (see README.md). Install first with
// test/oracle/install.sh.
//
//   node run_ort.js MODEL.onnx --input NAME=FILE ... --output-dir DIR
//        [--threads N] [--opt-level disabled|basic|extended|layout|all] [-q] [-v]
//
// FILE is a NumPy .npy file or an ONNX TensorProto .pb file (the format of
// the ONNX backend node tests' test_data_set_*/input_*.pb). Every output is
// written as DIR/<output name>.npy with the element type ONNX Runtime
// produced ('/' in a name becomes '_'), and DIR/outputs.json lists name,
// file, dtype and shape of each. Exit status: 0 ok, 1 ONNX Runtime failed
// (load or run), 2 bad usage or bad input files.
'use strict';

const fs = require('fs');
const path = require('path');

const PROG = 'run_ort';

class UsageError extends Error {}

function fail(msg, code) {
  process.stderr.write(`${PROG}: error: ${msg}\n`);
  process.exit(code);
}

function loadDeps() {
  try {
    return {
      ort: require('onnxruntime-node'),
      npy: require('npyjs'),
      protobuf: require('protobufjs'),
    };
  } catch (e) {
    fail(`cannot load the oracle's npm packages (${e.message.split('\n')[0]}); ` +
         `run ${path.join(__dirname, 'install.sh')} first`, 2);
  }
}

const USAGE =
  'usage: node run_ort.js MODEL.onnx --input NAME=FILE.npy|FILE.pb ... --output-dir DIR\n' +
  '                       [--threads N] [--opt-level disabled|basic|extended|layout|all] [-q] [-v]';

const OPT_LEVELS = ['disabled', 'basic', 'extended', 'layout', 'all'];

function parseArgs(argv) {
  const a = { model: null, inputs: [], outDir: null, threads: 0, optLevel: 'all', quiet: false, verbose: false };
  const value = (i, flag) => {
    if (i + 1 >= argv.length) throw new UsageError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i];
    let inline = null;
    const eq = arg.indexOf('=');
    if (arg.startsWith('--') && eq > 0) { inline = arg.slice(eq + 1); arg = arg.slice(0, eq); }
    const take = () => { if (inline !== null) return inline; const v = value(i, arg); i++; return v; };
    switch (arg) {
      case '-h': case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      case '--input': case '-i': {
        const spec = take();
        const k = spec.indexOf('=');
        if (k <= 0 || k === spec.length - 1) throw new UsageError(`--input expects NAME=FILE, got '${spec}'`);
        a.inputs.push({ name: spec.slice(0, k), file: spec.slice(k + 1) });
        break;
      }
      case '--output-dir': case '-o': a.outDir = take(); break;
      case '--threads': {
        const v = take();
        if (!/^[0-9]+$/.test(v)) throw new UsageError(`--threads expects a non-negative integer, got '${v}'`);
        a.threads = Number(v);
        break;
      }
      case '--opt-level': {
        const v = take();
        if (!OPT_LEVELS.includes(v)) throw new UsageError(`--opt-level must be one of ${OPT_LEVELS.join(', ')}, got '${v}'`);
        a.optLevel = v;
        break;
      }
      case '-q': case '--quiet': a.quiet = true; break;
      case '-v': case '--verbose': a.verbose = true; break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${argv[i]}'`);
        if (a.model !== null) throw new UsageError(`more than one model given ('${a.model}', '${arg}')`);
        a.model = argv[i];
    }
  }
  if (a.model === null) throw new UsageError('no model given');
  if (a.outDir === null) throw new UsageError('--output-dir is required');
  return a;
}

// ---------------------------------------------------------------------------
// .npy (through npyjs)

// npyjs dtype code -> ONNX Runtime tensor type.
const NPY_TO_ORT = {
  f4: 'float32', f8: 'float64', f2: 'float16',
  i1: 'int8', u1: 'uint8', i2: 'int16', u2: 'uint16',
  i4: 'int32', u4: 'uint32', i8: 'int64', u8: 'uint64', b1: 'bool',
};
const ORT_TO_NPY = Object.fromEntries(Object.entries(NPY_TO_ORT).map(([k, v]) => [v, k]));

function numel(shape) { return shape.reduce((p, d) => p * d, 1); }

function readNpy(npy, file) {
  const buf = fs.readFileSync(file);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  let arr;
  try {
    arr = npy.parse(ab, { convertFloat16: false });
  } catch (e) {
    throw new UsageError(`${file}: not a readable .npy file: ${e.message}`);
  }
  const header = Buffer.from(ab, 0, Math.min(ab.byteLength, 256)).toString('latin1');
  const descr = /'descr'\s*:\s*'([^']+)'/.exec(header);
  if (descr && descr[1].startsWith('>') && !descr[1].endsWith('1')) {
    throw new UsageError(`${file}: big-endian dtype '${descr[1]}' is not supported`);
  }
  if (arr.fortranOrder) throw new UsageError(`${file}: Fortran-order arrays are not supported (save with C order)`);
  const type = NPY_TO_ORT[arr.dtype];
  if (!type) throw new UsageError(`${file}: unsupported dtype '${arr.dtype}'`);
  const n = numel(arr.shape);
  let data = arr.data;
  if (data.length < n) throw new UsageError(`${file}: holds ${data.length} elements, shape [${arr.shape}] needs ${n}`);
  if (type === 'bool') data = Uint8Array.from(data.slice(0, n), (b) => (b ? 1 : 0));
  else if (data.length !== n) data = data.subarray(0, n);
  return { type, data, dims: arr.shape };
}

function writeNpy(npy, file, tensor) {
  let dtype = ORT_TO_NPY[tensor.type];
  let data = tensor.data;
  if (tensor.type === 'string') {
    const width = Math.max(1, ...data.map((s) => [...s].length));
    dtype = `U${width}`;
  } else if (!dtype) {
    throw new Error(`output element type '${tensor.type}' cannot be written as .npy`);
  } else if (tensor.type === 'float16' && !(data instanceof Uint16Array)) {
    // Float16Array (newer Node): keep the raw bits.
    data = new Uint16Array(data.buffer, data.byteOffset, data.length);
  }
  const bytes = npy.dump(data, [...tensor.dims], { dtype });
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, new Uint8Array(bytes));
  fs.renameSync(tmp, file);
  return dtype;
}

// ---------------------------------------------------------------------------
// ONNX TensorProto .pb (through protobufjs, with the TensorProto fields of
// onnx.proto; field numbers are those of onnx/onnx.proto, IR version 8).

const TENSOR_PROTO_JSON = {
  nested: {
    TensorProto: {
      fields: {
        dims: { rule: 'repeated', type: 'int64', id: 1 },
        dataType: { type: 'int32', id: 2 },
        floatData: { rule: 'repeated', type: 'float', id: 4 },
        int32Data: { rule: 'repeated', type: 'int32', id: 5 },
        stringData: { rule: 'repeated', type: 'bytes', id: 6 },
        int64Data: { rule: 'repeated', type: 'int64', id: 7 },
        name: { type: 'string', id: 8 },
        rawData: { type: 'bytes', id: 9 },
        doubleData: { rule: 'repeated', type: 'double', id: 10 },
        uint64Data: { rule: 'repeated', type: 'uint64', id: 11 },
        docString: { type: 'string', id: 12 },
        externalData: { rule: 'repeated', type: 'StringStringEntryProto', id: 13 },
        dataLocation: { type: 'int32', id: 14 },
      },
    },
    StringStringEntryProto: {
      fields: { key: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
    },
  },
};

// ONNX TensorProto.DataType -> [ORT type, typed array, field holding typed data]
const ONNX_TYPES = {
  1: ['float32', Float32Array, 'floatData'],
  2: ['uint8', Uint8Array, 'int32Data'],
  3: ['int8', Int8Array, 'int32Data'],
  4: ['uint16', Uint16Array, 'int32Data'],
  5: ['int16', Int16Array, 'int32Data'],
  6: ['int32', Int32Array, 'int32Data'],
  7: ['int64', BigInt64Array, 'int64Data'],
  8: ['string', null, 'stringData'],
  9: ['bool', Uint8Array, 'int32Data'],
  10: ['float16', Uint16Array, 'int32Data'],
  11: ['float64', Float64Array, 'doubleData'],
  12: ['uint32', Uint32Array, 'uint64Data'],
  13: ['uint64', BigUint64Array, 'uint64Data'],
};

let TensorProto = null;

function readPb(protobuf, file) {
  if (TensorProto === null) TensorProto = protobuf.Root.fromJSON(TENSOR_PROTO_JSON).lookupType('TensorProto');
  const bytes = fs.readFileSync(file);
  let msg;
  try {
    msg = TensorProto.toObject(TensorProto.decode(bytes), { longs: String, defaults: true });
  } catch (e) {
    throw new UsageError(`${file}: not an ONNX TensorProto: ${e.message}`);
  }
  const entry = ONNX_TYPES[msg.dataType];
  if (!entry) {
    throw new UsageError(`${file}: TensorProto data_type ${msg.dataType} is not supported ` +
                         '(or the file is a SequenceProto/OptionalProto/MapProto, which run_ort.js does not read)');
  }
  if (msg.dataLocation === 1 || msg.externalData.length > 0) {
    throw new UsageError(`${file}: TensorProto with external data is not supported`);
  }
  const [type, Ctor, field] = entry;
  const dims = msg.dims.map(Number);
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) throw new UsageError(`${file}: bad dims [${msg.dims}]`);
  const n = numel(dims);
  let data;
  if (type === 'string') {
    data = msg.stringData.map((b) => Buffer.from(b).toString('utf8'));
  } else if (msg.rawData.length > 0) {
    const raw = msg.rawData;
    if (raw.length !== n * Ctor.BYTES_PER_ELEMENT) {
      throw new UsageError(`${file}: raw_data has ${raw.length} bytes, dims [${dims}] of ${type} need ` +
                           `${n * Ctor.BYTES_PER_ELEMENT}`);
    }
    data = new Ctor(n);
    new Uint8Array(data.buffer).set(raw);  // copy: raw_data may be unaligned
  } else {
    const src = msg[field];
    if (Ctor === BigInt64Array || Ctor === BigUint64Array) data = Ctor.from(src, (v) => BigInt(v));
    else if (field === 'uint64Data') data = Ctor.from(src, (v) => Number(v));
    else data = Ctor.from(src);
  }
  if (data.length !== n) {
    throw new UsageError(`${file}: holds ${data.length} elements, dims [${dims}] need ${n} ` +
                         '(is it a SequenceProto/OptionalProto rather than a TensorProto?)');
  }
  return { type, data, dims };
}

// ---------------------------------------------------------------------------

function outputFileName(name) {
  let base = name.replace(/[/\0]/g, '_');
  if (base === '' || base === '.' || base === '..') base = `_${base}`;
  return `${base}.npy`;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) fail(`${e.message}\n${USAGE}`, 2);
    throw e;
  }
  const { ort, npy, protobuf } = loadDeps();

  if (!fs.existsSync(args.model)) fail(`model file not found: ${args.model}`, 2);
  const seen = new Set();
  for (const inp of args.inputs) {
    if (seen.has(inp.name)) fail(`input '${inp.name}' given more than once`, 2);
    seen.add(inp.name);
    if (!fs.existsSync(inp.file)) fail(`input file not found: ${inp.file} (for input '${inp.name}')`, 2);
    if (!/\.(npy|pb)$/i.test(inp.file)) fail(`input file must end in .npy or .pb: ${inp.file}`, 2);
  }

  const options = {
    executionProviders: ['cpu'],
    graphOptimizationLevel: args.optLevel,
    logSeverityLevel: args.verbose ? 2 : 3,
  };
  if (args.threads > 0) {
    options.intraOpNumThreads = args.threads;
    options.interOpNumThreads = 1;
  }

  let session;
  try {
    session = await ort.InferenceSession.create(args.model, options);
  } catch (e) {
    fail(`ONNX Runtime could not load ${args.model}: ${e.message}`, 1);
  }

  const meta = new Map();
  (session.inputMetadata || []).forEach((m) => meta.set(m.name, m));
  const known = session.inputNames;
  const unknown = args.inputs.filter((i) => !known.includes(i.name)).map((i) => i.name);
  if (unknown.length) {
    fail(`unknown input name(s) ${unknown.map((n) => `'${n}'`).join(', ')}; ` +
         `the model's inputs are: ${known.join(', ')}`, 2);
  }
  const missing = known.filter((n) => !seen.has(n));
  if (missing.length) fail(`no --input given for model input(s): ${missing.join(', ')}`, 2);

  const feeds = {};
  for (const inp of args.inputs) {
    const m = meta.get(inp.name);
    if (m && m.isTensor === false) fail(`input '${inp.name}' is not a tensor; run_ort.js feeds tensors only`, 2);
    let t;
    try {
      t = /\.pb$/i.test(inp.file) ? readPb(protobuf, inp.file) : readNpy(npy, inp.file);
    } catch (e) {
      if (e instanceof UsageError) fail(e.message, 2);
      fail(`${inp.file}: ${e.message}`, 2);
    }
    if (m && m.isTensor && m.type !== t.type) {
      fail(`input '${inp.name}' of the model is ${m.type}, ${inp.file} holds ${t.type}`, 2);
    }
    // (an empty shape may also mean "rank unknown": leave that case to ORT)
    if (m && m.isTensor && Array.isArray(m.shape) && m.shape.length > 0) {
      const bad = m.shape.length !== t.dims.length ||
        m.shape.some((d, k) => typeof d === 'number' && d >= 0 && d !== t.dims[k]);
      if (bad) fail(`input '${inp.name}' of the model has shape [${m.shape}], ${inp.file} has [${t.dims}]`, 2);
    }
    feeds[inp.name] = new ort.Tensor(t.type, t.data, t.dims);
  }

  let results;
  const t0 = process.hrtime.bigint();
  try {
    results = await session.run(feeds);
  } catch (e) {
    fail(`ONNX Runtime failed to run ${args.model}: ${e.message}`, 1);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;

  fs.mkdirSync(args.outDir, { recursive: true });
  const index = [];
  for (const name of session.outputNames) {
    const tensor = results[name];
    const file = outputFileName(name);
    let npyDtype;
    try {
      npyDtype = writeNpy(npy, path.join(args.outDir, file), tensor);
    } catch (e) {
      fail(`cannot write output '${name}': ${e.message}`, 1);
    }
    index.push({ name, file, type: tensor.type, npy_dtype: npyDtype, shape: [...tensor.dims] });
    if (!args.quiet) process.stdout.write(`${name}: ${tensor.type} [${tensor.dims.join(', ')}] -> ${path.join(args.outDir, file)}\n`);
  }
  fs.writeFileSync(path.join(args.outDir, 'outputs.json'), JSON.stringify({
    model: path.resolve(args.model),
    onnxruntime: ort.env.versions,
    opt_level: args.optLevel,
    threads: args.threads,
    run_ms: ms,
    outputs: index,
  }, null, 1) + '\n');
  if (typeof session.release === 'function') await session.release();
}

if (require.main === module) {
  main().catch((e) => fail(e && e.stack ? e.stack : String(e), 1));
}

// The benchmarks (bench/ort_latency.js) reuse the oracle's loading code.
module.exports = { loadDeps, readNpy };
