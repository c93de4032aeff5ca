// Median latency of one ONNX Runtime session over repeated runs, for
// bench/infer_vs_ort.py. Uses the test-only onnxruntime-node of test/oracle.
//
//   node ort_latency.js MODEL.onnx INPUT_NAME=FILE.npy ... --threads N --runs R
//
// Prints one line: "median_ms <value>".
'use strict';
const path = require('path');
const { loadDeps, readNpy } = require(path.join(__dirname, '..', 'test', 'oracle', 'run_ort.js'));

async function main() {
  const args = process.argv.slice(2);
  const model = args.shift();
  let threads = 1, runs = 10;
  const inputs = {};
  const { ort, npy } = loadDeps();
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === '--threads') threads = Number(args[++i]);
    else if (args[i] === '--runs') runs = Number(args[++i]);
    else {
      const eq = args[i].indexOf('=');
      const name = args[i].slice(0, eq), file = args[i].slice(eq + 1);
      const t = readNpy(npy, file);
      inputs[name] = new ort.Tensor(t.type, t.data, t.dims);
    }
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    graphOptimizationLevel: 'all', executionProviders: ['cpu'] });
  await session.run(inputs); // warm-up
  const times = [];
  for (let r = 0; r < runs; ++r) {
    const t0 = process.hrtime.bigint();
    await session.run(inputs);
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  times.sort((a, b) => a - b);
  console.log(`median_ms ${times[Math.floor(times.length / 2)]}`);
}
main().catch((e) => { console.error(`error: ${e.message}`); process.exit(1); });
