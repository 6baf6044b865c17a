// Calls edge-agent's inference.GRPCInferenceService with @grpc/grpc-js, as any third-party client would.
// Usage: node infer.js HOST:PORT REQUEST.json   (unix:/path works too)
// REQUEST.json: {"model": "...", "inputs": [{"name", "datatype", "shape", "raw_base64"}]}
// Prints JSON: server metadata, model readiness, and the outputs with their raw bytes in base64.
'use strict';
const path = require('path');
const fs = require('fs');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const [address, requestFile] = process.argv.slice(2);
const protoPath = path.join(__dirname, '..', '..', 'src', 'EdgeInference.Agent', 'Protos', 'grpc_service.proto');
const definition = protoLoader.loadSync(protoPath, { keepCase: true, longs: String, defaults: true });
const inference = grpc.loadPackageDefinition(definition).inference;
const client = new inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
const call = (method, request) => new Promise((resolve, reject) =>
  client[method](request, { deadline: Date.now() + 20000 }, (error, response) => (error ? reject(error) : resolve(response))));

(async () => {
  const request = JSON.parse(fs.readFileSync(requestFile, 'utf8'));
  const metadata = await call('ServerMetadata', {});
  const ready = await call('ModelReady', { name: request.model });
  const response = await call('ModelInfer', {
    model_name: request.model,
    inputs: request.inputs.map(i => ({ name: i.name, datatype: i.datatype, shape: i.shape })),
    raw_input_contents: request.inputs.map(i => Buffer.from(i.raw_base64, 'base64')),
  });
  console.log(JSON.stringify({
    server: metadata.name,
    ready: ready.ready,
    model_name: response.model_name,
    outputs: response.outputs.map((o, i) => ({
      name: o.name, datatype: o.datatype, shape: o.shape.map(Number),
      raw_base64: Buffer.from(response.raw_output_contents[i]).toString('base64'),
    })),
  }));
  client.close();
})().catch(error => { console.error(error.message); process.exit(1); });
